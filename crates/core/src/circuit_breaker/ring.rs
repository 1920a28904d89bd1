//! A ring of 64 buckets of failures and slow calls, each stamped with the bucket number it
//! holds, for the sliding windows. Only failures, slow calls and the first call of a bucket
//! write here; a plain successful call never does.

use super::sync::{AtomicU64, Ordering};
use Ordering::{Acquire, Relaxed, Release};

/// Number of buckets in a ring.
pub(crate) const BUCKETS: u64 = 64;

/// A stamp being reset.
const LOCKED: u64 = u64::MAX;

/// One bucket; `stamp` is its bucket number plus one (0: unused).
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    stamp: AtomicU64,
    pub failures: AtomicU64,
    pub slow: AtomicU64,
    /// The window's call count when the bucket was claimed.
    pub start: AtomicU64,
}

impl Bucket {
    /// Adds a failure and/or a slow call (released, so a tally that reads it also sees the
    /// call counted before it).
    pub(crate) fn add(&self, failed: bool, slow: bool) {
        if failed {
            self.failures.fetch_add(1, Release);
        }
        if slow {
            self.slow.fetch_add(1, Release);
        }
    }
}

/// The ring.
#[derive(Debug)]
pub(crate) struct Ring {
    buckets: Box<[Bucket]>,
}

impl Ring {
    pub(crate) fn new() -> Self {
        Self { buckets: (0..BUCKETS).map(|_| Bucket::default()).collect() }
    }

    /// The bucket for bucket number `n`, reset (with `start` as its start count) if it held an
    /// older number; `None` if it already holds a newer one (the caller's reading is stale).
    pub(crate) fn claim(&self, n: u64, start: u64) -> Option<&Bucket> {
        let bucket = &self.buckets[(n % BUCKETS) as usize];
        let stamp = n + 1;
        loop {
            let seen = bucket.stamp.load(Acquire);
            if seen == stamp {
                return Some(bucket);
            }
            if seen == LOCKED {
                std::hint::spin_loop();
                continue;
            }
            if seen > stamp {
                return None;
            }
            if bucket.stamp.compare_exchange(seen, LOCKED, Acquire, Relaxed).is_ok() {
                bucket.failures.store(0, Relaxed);
                bucket.slow.store(0, Relaxed);
                bucket.start.store(start, Relaxed);
                bucket.stamp.store(stamp, Release);
                return Some(bucket);
            }
        }
    }

    /// The buckets holding numbers `first..=last`.
    pub(crate) fn live(&self, first: u64, last: u64) -> impl Iterator<Item = &Bucket> {
        self.buckets.iter().filter(move |b| {
            let stamp = b.stamp.load(Acquire);
            stamp != 0 && stamp != LOCKED && stamp > first && stamp <= last + 1
        })
    }

    /// Forgets every bucket.
    pub(crate) fn clear(&self) {
        for b in self.buckets.iter() {
            let seen = b.stamp.load(Acquire);
            if seen != LOCKED {
                let _ = b.stamp.compare_exchange(seen, 0, Release, Relaxed);
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_claim_resets_an_older_bucket_and_refuses_a_stale_number() {
        let ring = Ring::new();
        ring.claim(3, 10).unwrap_or_else(|| unreachable!("a fresh ring")).add(true, true);
        assert_eq!(ring.live(0, 3).map(|b| b.failures.load(Relaxed)).sum::<u64>(), 1);
        let newer = ring.claim(3 + BUCKETS, 20).map(|b| (b.failures.load(Relaxed), b.start.load(Relaxed)));
        assert_eq!(newer, Some((0, 20)));
        assert!(ring.claim(3, 30).is_none());
        assert_eq!(ring.live(0, 3).count(), 0);
        ring.clear();
        assert_eq!(ring.live(0, u64::MAX - 1).count(), 0);
    }
}
