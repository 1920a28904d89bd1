//! Exhaustive interleavings of the rate limiter's one-word GCRA state under loom: racing
//! callers never take more cells than the burst holds, and none is lost.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p elf-resilience-core --test rate_limit_loom --release`.
#![cfg(loom)]

use elf_resilience_core::{ManualClock, RateLimiter};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::num::NonZeroU32;
use std::time::Duration;

fn limiter(clock: &ManualClock, burst: u32) -> Arc<RateLimiter> {
    let limiter = RateLimiter::builder()
        .per_second(NonZeroU32::new(1).unwrap())
        .burst(NonZeroU32::new(burst).unwrap())
        .clock(clock.shared())
        .build()
        .unwrap();
    Arc::new(limiter)
}

#[test]
fn racing_callers_take_exactly_the_burst() {
    loom::model(|| {
        let clock = ManualClock::new();
        let limiter = limiter(&clock, 2);
        let admitted = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (limiter, admitted) = (limiter.clone(), admitted.clone());
                thread::spawn(move || {
                    if limiter.check().is_ok() {
                        admitted.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let mine = limiter.check().is_ok();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(admitted.load(Ordering::SeqCst) + usize::from(mine), 2, "a burst of 2 admits 2 of 3");
        let denied = limiter.check().unwrap_err();
        assert_eq!(denied.retry_after(), Duration::from_secs(1), "the next cell is one period away");
        assert_eq!(limiter.denied_total(), 2);
    });
}

#[test]
fn the_last_cells_go_to_one_of_two_claims() {
    loom::model(|| {
        let clock = ManualClock::new();
        let limiter = limiter(&clock, 2);
        let other = limiter.clone();
        let pair = thread::spawn(move || other.check_n(NonZeroU32::new(2).unwrap()).is_ok());
        let one = limiter.check().is_ok();
        let pair = pair.join().unwrap();
        assert!(one != pair, "either the pair or the single cell is admitted, not both nor neither");
        assert_eq!(limiter.check().is_ok(), one, "a cell is left exactly when the single claim won");
        assert!(limiter.check().is_err(), "then the burst is spent");
    });
}
