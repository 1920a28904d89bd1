//! When the crash soak is done, and what it checks then: every enqueue accounted for by the
//! [`Ledger`](crate::ledger::Ledger), every request done and delivered with its own payload,
//! the stores undamaged, duplicates and ambiguous posts within the kills.

use std::time::Duration;

use elf_resilience::{RequestQueue, TicketStatus};

use super::Soak;
use crate::ledger::Settled;

impl Soak {
    /// Every enqueue is in, every request the queue holds delivered and done, and every kill
    /// was made.
    pub(super) fn finished(&self, queue: &dyn RequestQueue) -> bool {
        self.serve_kills >= self.plan.kills
            && self.library_finished
            && self.posting_finished
            && self.ledger.committed_delivered(|n| self.delivered_ns.contains(&n))
            && queue
                .list(None, usize::MAX)
                .unwrap()
                .iter()
                .all(|r| r.status == TicketStatus::Done && self.seen.contains_key(&r.ticket.0))
    }

    pub(super) fn progress(&self) -> String {
        format!(
            "{} enqueues answered ({} ambiguous), {} of {} delivered ({} deliveries), {} serve kills, \
             {} enqueuer kills",
            self.enqueued,
            self.ledger.ambiguous_count(),
            self.unique(),
            self.plan.requests,
            self.deliveries,
            self.serve_kills,
            self.enqueuer_kills
        )
    }

    /// Nothing lost, nothing damaged, duplicates within the kills; what the queue made of the
    /// ambiguous enqueues.
    pub(super) fn verify(&self) -> Settled {
        let all = self.store.queue().list(None, usize::MAX).unwrap();
        let settled = self.ledger.check(&all).unwrap_or_else(|wrong| panic!("{wrong}"));
        for r in &all {
            assert_eq!(r.status, TicketStatus::Done, "{} is not done: {r:?}", r.ticket);
            assert_eq!(
                self.payloads.get(&r.ticket.0),
                r.payload["n"].as_u64().as_ref(),
                "{} delivered",
                r.ticket
            );
        }
        self.store.assert_undamaged();
        let duplicates = self.deliveries - self.unique();
        assert!(
            duplicates <= u64::from(self.serve_kills),
            "{duplicates} duplicate deliveries for {} kills of serve",
            self.serve_kills
        );
        let ambiguous = self.ledger.ambiguous_count();
        assert!(
            ambiguous <= u64::from(self.serve_kills),
            "{ambiguous} posts lost their answer to {} kills of serve: a kill cuts at most the one in flight",
            self.serve_kills
        );
        settled
    }

    /// The summary line: what was enqueued how, where the kills landed, what came of it.
    pub(super) fn summary(&self, backend: &str, settled: Settled, took: Duration) -> String {
        let [delivery, ack, enqueues, post, idle] = self.kills_by_point;
        format!(
            "soak {backend}: requests {}, over HTTP answered 201 {}, ambiguous {} (committed {}, absent {}), \
             serve kills {} (in a delivery {delivery}, after an ack {ack}, during enqueues {enqueues}, \
             mid-POST {post}, idle {idle}), enqueuer kills {}, deliveries {}, duplicates {}, lost 0, damaged 0, \
             {:.1} s",
            self.plan.requests,
            self.ledger.created_count(),
            self.ledger.ambiguous_count(),
            settled.committed,
            settled.absent,
            self.serve_kills,
            self.enqueuer_kills,
            self.deliveries,
            self.deliveries - self.unique(),
            took.as_secs_f64()
        )
    }
}
