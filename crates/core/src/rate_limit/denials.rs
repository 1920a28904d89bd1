//! The denial count, on the denying thread's stripe (see [`crate::stripes`]): a denial is a
//! plain load and store on most threads, not a locked read-modify-write that would stall the
//! caller and bounce one cache line between cores.

use crate::stripes::Stripes;
use std::sync::atomic::{AtomicU64, Ordering};

/// A stripe's denials between two updates of `elf_rate_limited_total`.
pub(crate) const PUBLISH_EVERY: u64 = 1024;

/// Denials counted per stripe, and how many of them the metrics counter has been told about.
#[derive(Debug, Default)]
pub(crate) struct Denials {
    stripes: Stripes,
    published: AtomicU64,
}

impl Denials {
    /// Counts one denial; `true` when the caller's stripe reaches a multiple of
    /// [`PUBLISH_EVERY`].
    #[inline]
    pub(crate) fn add_one(&self) -> bool {
        self.stripes.add(1).is_multiple_of(PUBLISH_EVERY)
    }

    /// Every denial counted so far (exact once the denying calls have returned).
    pub(crate) fn total(&self) -> u64 {
        self.stripes.sum()
    }

    /// Denials not yet published, marked as published now. Concurrent callers split them:
    /// each denial is handed out once.
    pub(crate) fn take_unpublished(&self) -> u64 {
        let total = self.total();
        let before = self.published.fetch_max(total, Ordering::Relaxed);
        total.saturating_sub(before)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn counts_on_this_thread_and_on_others() {
        let d = Denials::default();
        for _ in 0..5 {
            d.add_one();
        }
        std::thread::scope(|s| {
            for _ in 0..24 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        d.add_one();
                    }
                });
            }
        });
        assert_eq!(d.total(), 24_005);
        assert_eq!(d.take_unpublished(), 24_005);
        assert_eq!(d.take_unpublished(), 0);
    }

    #[test]
    fn the_publish_signal_comes_every_1024_denials_of_a_thread() {
        std::thread::spawn(|| {
            let d = Denials::default();
            let signals: Vec<u64> = (1..=3000).filter(|_| d.add_one()).collect();
            assert_eq!(signals, [1024, 2048]);
        })
        .join()
        .unwrap();
    }
}
