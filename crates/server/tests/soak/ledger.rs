//! What the crash soak's enqueues answered, and the queue checked against it afterwards: the
//! library's even `n` each committed once, every odd `n` answered 201 in the queue under the
//! ticket it was given, an ambiguous odd `n` (its answer lost to a kill) there at most once,
//! and nothing else.

use std::collections::{BTreeMap, BTreeSet};

use elf_resilience::QueuedRequest;

use crate::enqueuer::EVERY;

/// The enqueues of one soak run, as their answers said.
#[derive(Debug)]
pub struct Ledger {
    requests: u64,
    /// The library's next `n`.
    library_next: u64,
    /// Odd `n` answered 201, with the ticket.
    created: BTreeMap<u64, String>,
    /// Odd `n` whose answer was lost.
    ambiguous: BTreeSet<u64>,
}

/// What the queue held of the ambiguous enqueues.
#[derive(Debug, Clone, Copy)]
pub struct Settled {
    /// Ambiguous enqueues the queue holds (and the receiver got).
    pub committed: u64,
    /// Ambiguous enqueues the queue does not hold.
    pub absent: u64,
}

impl Ledger {
    /// Nothing enqueued yet, of `n` below `requests`.
    pub fn new(requests: u64) -> Self {
        Self { requests, library_next: 0, created: BTreeMap::new(), ambiguous: BTreeSet::new() }
    }

    /// A (re)started library enqueuer begins at `at`: where the reports stopped, or one step
    /// further (the one in flight when it was killed was committed unreported). `true` for the
    /// latter.
    pub fn library_resumed(&mut self, at: u64) -> bool {
        let next = self.library_next;
        assert!(
            at == next || at == next + EVERY,
            "the enqueuer resumed at {at} after reporting up to {next}: only the one in flight may be \
             committed unreported"
        );
        self.library_next = at;
        at != next
    }

    /// The library committed `n`.
    pub fn library_enqueued(&mut self, n: u64) {
        assert_eq!(n, self.library_next, "the library's enqueues are reported in order, each once");
        self.library_next = n + EVERY;
    }

    /// The library's next `n`.
    pub fn library_next(&self) -> u64 {
        self.library_next
    }

    /// `POST /api/queue` answered 201 for `n`.
    pub fn created(&mut self, n: u64, ticket: String) {
        assert!(self.created.insert(n, ticket).is_none(), "n={n} was answered 201 twice");
    }

    /// `POST /api/queue` for `n` lost its answer.
    pub fn ambiguous(&mut self, n: u64) {
        assert!(self.ambiguous.insert(n), "n={n} was posted twice");
    }

    /// How many enqueues were answered 201.
    pub fn created_count(&self) -> u64 {
        self.created.len() as u64
    }

    /// How many enqueues are ambiguous.
    pub fn ambiguous_count(&self) -> u64 {
        self.ambiguous.len() as u64
    }

    /// Whether every enqueue known to be committed (the library's, the 201s) was `delivered`.
    pub fn committed_delivered(&self, delivered: impl Fn(u64) -> bool) -> bool {
        (0..self.library_next).step_by(EVERY as usize).all(&delivered)
            && self.created.keys().all(|&n| delivered(n))
    }

    /// The queue holds each library `n` once, each 201 under its ticket, each ambiguous `n` at
    /// most once and nothing else; what is wrong otherwise.
    pub fn check(&self, all: &[QueuedRequest]) -> Result<Settled, String> {
        let by_n = by_n(all)?;
        if let Some(n) = (0..self.requests).step_by(EVERY as usize).find(|n| !by_n.contains_key(n)) {
            return Err(format!("the library's n={n} is not in the queue"));
        }
        if let Some((n, ticket)) = self.created.iter().find(|(n, t)| by_n.get(n) != Some(t)) {
            return Err(format!("n={n} was answered 201 with {ticket}; the queue has {:?}", by_n.get(n)));
        }
        let odd = by_n.keys().filter(|n| *n % EVERY != 0);
        let stray: Vec<_> =
            odd.filter(|n| !self.created.contains_key(n) && !self.ambiguous.contains(n)).collect();
        if !stray.is_empty() {
            return Err(format!("the queue holds n that were never posted or were refused: {stray:?}"));
        }
        let committed = self.ambiguous.iter().filter(|n| by_n.contains_key(n)).count() as u64;
        Ok(Settled { committed, absent: self.ambiguous_count() - committed })
    }
}

/// The queue's tickets by payload `n`; an error for an `n` twice or a request without one.
fn by_n(all: &[QueuedRequest]) -> Result<BTreeMap<u64, String>, String> {
    let mut by_n = BTreeMap::new();
    for r in all {
        let n = r.payload["n"].as_u64().ok_or_else(|| format!("{} has no n: {r:?}", r.ticket))?;
        if let Some(before) = by_n.insert(n, r.ticket.0.clone()) {
            return Err(format!("n={n} is in the queue twice: {before} and {}", r.ticket));
        }
    }
    Ok(by_n)
}

#[test]
fn the_ledger_refuses_a_doubled_lost_or_stray_enqueue() {
    use elf_resilience::{EnqueueRequest, RequestQueue, SqliteQueue};
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let queue = SqliteQueue::open(dir.path().join("queue.db")).unwrap();
    let now = std::time::SystemTime::now();
    let put = |n: u64| queue.enqueue(EnqueueRequest::new("llm", json!({ "n": n })), now).unwrap().0;
    let mut ledger = Ledger::new(4);
    for n in [0, 2] {
        put(n);
        ledger.library_enqueued(n);
    }
    let one = put(1);
    ledger.created(1, one);
    ledger.ambiguous(3);
    let listed = |q: &SqliteQueue| q.list(None, 100).unwrap();
    let settled = ledger.check(&listed(&queue)).unwrap();
    assert_eq!((settled.committed, settled.absent), (0, 1), "an ambiguous enqueue may be absent");
    put(3);
    let settled = ledger.check(&listed(&queue)).unwrap();
    assert_eq!((settled.committed, settled.absent), (1, 0), "or there once");
    put(5);
    let stray = ledger.check(&listed(&queue)).unwrap_err();
    assert!(stray.contains("never posted") && stray.contains("[5]"), "{stray}");
    put(3);
    let doubled = ledger.check(&listed(&queue)).unwrap_err();
    assert!(doubled.contains("n=3 is in the queue twice"), "{doubled}");
    let first_three = &listed(&queue)[..3];
    let lost = Ledger::new(6).check(first_three).unwrap_err();
    assert!(lost.contains("the library's n=4 is not in the queue"), "{lost}");
    let mut told_another = Ledger::new(4);
    told_another.created(1, "sq-9".into());
    let moved = told_another.check(first_three).unwrap_err();
    assert!(moved.contains("n=1 was answered 201 with sq-9"), "{moved}");
}
