//! Call counters, striped per thread (see [`crate::stripes`]): a thread adds to its own
//! stripe, readers sum all stripes.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::stripes::{STRIPES, Slot};

/// What a counter slot counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    Success = 0,
    Failure = 1,
    Rejected = 2,
    Ignored = 3,
    Slow = 4,
    /// Successes and failures of calls admitted in another state than closed: the call
    /// counters less these are the sliding window's calls.
    Unwindowed = 5,
}

/// One cache line (two, for adjacent-line prefetchers) of counters.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe([AtomicU64; 6]);

/// Call counters spread over stripes, so threads do not fight over one cache line.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    stripes: [Stripe; STRIPES],
}

impl Counters {
    /// Adds one to `what` on this thread's stripe: a plain load and store on an owned stripe,
    /// one relaxed RMW on a shared one.
    #[inline(always)]
    pub(crate) fn bump(&self, what: Count) {
        let slot = Slot::current();
        slot.bump(&self.stripes[slot.index()].0[what as usize]);
    }

    /// The sum over all stripes.
    pub(crate) fn get(&self, what: Count) -> u64 {
        self.stripes.iter().map(|s| s.0[what as usize].load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sum_across_threads() {
        let c = Counters::default();
        std::thread::scope(|s| {
            for _ in 0..(STRIPES + 4) {
                s.spawn(|| (0..1000).for_each(|_| c.bump(Count::Success)));
            }
        });
        assert_eq!(c.get(Count::Success), (STRIPES as u64 + 4) * 1000);
        assert_eq!(c.get(Count::Failure), 0);
    }

    #[test]
    fn a_thread_counts_on_one_stripe() {
        let c = Counters::default();
        std::thread::scope(|s| {
            s.spawn(|| {
                c.bump(Count::Slow);
                c.bump(Count::Slow);
            });
        });
        let nonzero = c.stripes.iter().filter(|s| s.0[Count::Slow as usize].load(Ordering::Relaxed) != 0);
        assert_eq!(nonzero.count(), 1);
        assert_eq!(c.get(Count::Slow), 2);
    }
}
