//! The crash soak's size and its kill schedule: where each fresh `serve` is killed, picked by
//! a seeded RNG from counts of what the soak has seen.

use std::time::{Duration, Instant};

use elf_resilience::{RequestQueue, TicketStatus};

use super::Soak;

/// The run's size and its kill points' seed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub requests: u64,
    pub kills: u32,
    pub enqueuer_kills: u32,
    pub seed: u64,
}

impl Plan {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.parse::<u64>().expect(name));
        let requests = var("ELF_SOAK_REQUESTS").unwrap_or(500).max(10);
        let kills = u32::try_from(var("ELF_SOAK_KILLS").unwrap_or(50)).unwrap();
        let seed = var("ELF_SOAK_SEED").unwrap_or_else(|| fastrand::u64(..));
        Self { requests, kills, enqueuer_kills: (kills / 12).max(3), seed }
    }

    /// A generous bound on the whole run, for a hang to fail rather than wait forever.
    pub fn deadline(&self) -> Instant {
        Instant::now() + Duration::from_secs(120 + self.requests / 10 + u64::from(self.kills) * 2)
    }
}

/// When the running server is killed next.
#[derive(Debug, Clone, Copy)]
pub(super) enum Trigger {
    /// Once this many deliveries (duplicates included) were seen: while the last one is in
    /// flight, before its ack.
    Delivered(u64),
    /// Once this many deliveries were seen and the last one is acked: in the lease or the
    /// delivery after it.
    Acked(u64),
    /// Once this many enqueues were answered (by the library or over HTTP).
    Enqueued(u64),
    /// Once this many posts to `POST /api/queue` went out and the last one is unanswered.
    Posting(u64),
    /// At once: nothing is left to deliver.
    Now,
}

impl Soak {
    /// Picks where the fresh server dies: after a few more enqueues or while a post is in
    /// flight (while those go on), or after a few more deliveries, before or after the last
    /// one's ack; at once when all are in.
    pub(super) fn arm(&mut self) {
        if self.serve_kills >= self.plan.kills {
            return;
        }
        let spacing = (self.plan.requests / u64::from(self.plan.kills.max(1))).max(1);
        // At most the distinct deliveries still to come: an ambiguous enqueue may never come.
        let left = self.plan.requests.saturating_sub(self.settled());
        let enqueuing = self.enqueued + 8 < self.plan.requests;
        let posts_left = (self.plan.requests / 2)
            .saturating_sub(self.ledger.created_count() + self.ledger.ambiguous_count());
        let posting = !self.posting_finished && posts_left > 5;
        let after = |rng: &mut fastrand::Rng| self.deliveries + rng.u64(1..=(2 * spacing - 1).min(left));
        self.trigger = Some(match self.rng.u8(0..4) {
            0 if enqueuing => Trigger::Enqueued(self.enqueued + self.rng.u64(1..=8)),
            3 if posting => Trigger::Posting(self.posts + self.rng.u64(1..=4)),
            _ if left == 0 => Trigger::Now,
            1 => Trigger::Acked(after(&mut self.rng)),
            _ => Trigger::Delivered(after(&mut self.rng)),
        });
    }

    pub(super) fn maybe_kill_serve(&mut self, queue: &dyn RequestQueue) {
        let (due, point) = match self.trigger {
            Some(Trigger::Delivered(n)) => (self.deliveries >= n, 0),
            Some(Trigger::Acked(n)) => (self.deliveries >= n && self.until_acked(queue), 1),
            Some(Trigger::Enqueued(n)) => (self.enqueued >= n, 2),
            Some(Trigger::Posting(n)) => (self.in_flight && self.posts >= n, 3),
            Some(Trigger::Now) => (true, 4),
            None => (false, 0),
        };
        if due {
            self.serve.take().unwrap().kill();
            self.serve_kills += 1;
            self.kills_by_point[point] += 1;
            self.start_serve();
        }
    }

    /// Waits (a bounded spin: the ack follows the handler's answer at once) until the last
    /// delivery is acked; `true` once it is.
    fn until_acked(&self, queue: &dyn RequestQueue) -> bool {
        let ticket = elf_resilience::Ticket(self.last_key.clone());
        let give_up = Instant::now() + Duration::from_secs(10);
        while queue.status(&ticket).unwrap() != Some(TicketStatus::Done) {
            assert!(Instant::now() < give_up, "{ticket} was delivered but not acked within 10 s");
            std::thread::yield_now();
        }
        true
    }
}
