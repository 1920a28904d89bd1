//! What one thread recorded to one series in its current second, not yet added to the shared
//! rings. Only the owning thread writes it, with plain loads and stores (no locked
//! read-modify-write), and moves it into the rings when its second changes; readers add the
//! pending usage of every thread to what the rings hold.
//!
//! Moving usage into the rings is bracketed by a sequence number (odd while it runs), so a
//! reader that overlapped a move reads again instead of counting the usage twice or not at all.

use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, RwLock};

use super::ledger::Usage;

/// One thread's pending usage for one series. Aligned to a cache line so owners do not share
/// lines.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct Pending {
    /// Odd while the owner moves the pending usage into the rings.
    seq: AtomicU64,
    /// The pending second plus one; 0 when nothing is pending.
    second: AtomicU64,
    tokens: AtomicU64,
    requests: AtomicU64,
}

impl Pending {
    /// Owner only: adds `usage` when `second` is the pending one; `false` otherwise.
    #[inline]
    pub(crate) fn add_if_current(&self, second: u64, usage: Usage) -> bool {
        if self.second.load(Ordering::Relaxed) != second + 1 {
            return false;
        }
        bump(&self.tokens, usage.tokens);
        bump(&self.requests, usage.requests);
        true
    }

    /// Owner only: the pending second, if any.
    pub(crate) fn second(&self) -> Option<u64> {
        self.second.load(Ordering::Relaxed).checked_sub(1)
    }

    /// Owner only: hands the pending usage to `sink` (which adds it to the rings), then makes
    /// `next` the pending one (`None`: nothing pending).
    pub(crate) fn restart(&self, next: Option<(u64, Usage)>, sink: impl FnOnce(u64, Usage)) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        if let Some((second, usage)) = self.load() {
            sink(second, usage);
        }
        let (second, usage) = next.map_or((0, Usage::default()), |(s, u)| (s + 1, u));
        self.tokens.store(usage.tokens, Ordering::Relaxed);
        self.requests.store(usage.requests, Ordering::Relaxed);
        self.second.store(second, Ordering::Relaxed);
        self.seq.store(seq + 2, Ordering::Release);
    }

    /// The pending second and usage, as a reader sees them (check the sequence around it).
    pub(crate) fn load(&self) -> Option<(u64, Usage)> {
        let second = self.second.load(Ordering::Relaxed).checked_sub(1)?;
        let usage = Usage::new(self.tokens.load(Ordering::Relaxed), self.requests.load(Ordering::Relaxed));
        Some((second, usage))
    }
}

/// A single writer's add: a load and a store, no locked instruction.
#[inline]
fn bump(cell: &AtomicU64, by: u64) {
    cell.store(cell.load(Ordering::Relaxed).saturating_add(by), Ordering::Relaxed);
}

/// The pending usage of every thread that records to one series.
#[derive(Debug, Default)]
pub(crate) struct PendingSet {
    owners: RwLock<Vec<Arc<Pending>>>,
}

impl PendingSet {
    /// A new pending cell for the calling thread.
    pub(crate) fn register(&self) -> Arc<Pending> {
        let pending = Arc::new(Pending::default());
        self.owners.write().unwrap_or_else(|e| e.into_inner()).push(pending.clone());
        pending
    }

    /// Forgets `pending` (its owner emptied it first).
    pub(crate) fn unregister(&self, pending: &Arc<Pending>) {
        self.owners.write().unwrap_or_else(|e| e.into_inner()).retain(|p| !Arc::ptr_eq(p, pending));
    }

    /// Runs `read` over the rings and the pending cells until no owner moved its pending usage
    /// into the rings meanwhile, and returns that result.
    pub(crate) fn consistent<T>(&self, mut read: impl FnMut(&[Arc<Pending>]) -> T) -> T {
        let owners = self.owners.read().unwrap_or_else(|e| e.into_inner());
        loop {
            let before = seq_sum(&owners);
            let Some(before) = before else {
                // An owner is between two stores; let it finish.
                std::thread::yield_now();
                continue;
            };
            let value = read(&owners);
            fence(Ordering::Acquire);
            // Sequences only grow, so an unchanged sum means none moved.
            if seq_sum(&owners) == Some(before) {
                return value;
            }
        }
    }
}

/// The sum of the owners' sequences; `None` while one of them is moving usage.
fn seq_sum(owners: &[Arc<Pending>]) -> Option<u64> {
    owners.iter().try_fold(0u64, |sum, p| {
        let seq = p.seq.load(Ordering::Acquire);
        (seq % 2 == 0).then(|| sum.wrapping_add(seq))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_usage_moves_out_when_the_second_changes() {
        let p = Pending::default();
        assert!(!p.add_if_current(5, Usage::new(1, 1)), "nothing pending yet");
        let mut moved = Vec::new();
        p.restart(Some((5, Usage::new(1, 1))), |s, u| moved.push((s, u)));
        assert!(p.add_if_current(5, Usage::new(2, 1)));
        assert_eq!(p.load(), Some((5, Usage::new(3, 2))));
        assert!(!p.add_if_current(6, Usage::new(9, 9)));
        p.restart(Some((6, Usage::new(9, 9))), |s, u| moved.push((s, u)));
        p.restart(None, |s, u| moved.push((s, u)));
        assert_eq!(moved, [(5, Usage::new(3, 2)), (6, Usage::new(9, 9))]);
        assert_eq!((p.load(), p.second()), (None, None));
        assert_eq!(p.seq.load(Ordering::Relaxed), 6, "each move leaves the sequence even");
    }

    #[test]
    fn a_set_reads_its_owners_and_forgets_unregistered_ones() {
        let set = PendingSet::default();
        let (a, b) = (set.register(), set.register());
        a.restart(Some((1, Usage::new(10, 1))), |_, _| {});
        b.restart(Some((1, Usage::new(5, 1))), |_, _| {});
        let sum = |set: &PendingSet| {
            set.consistent(|ps| ps.iter().filter_map(|p| p.load()).fold(Usage::default(), |a, (_, u)| a + u))
        };
        assert_eq!(sum(&set), Usage::new(15, 2));
        set.unregister(&a);
        assert_eq!(sum(&set), Usage::new(5, 1));
    }
}
