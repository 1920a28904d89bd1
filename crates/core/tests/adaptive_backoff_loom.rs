//! Exhaustive interleavings of the adaptive backoff's shared delay word under loom: outcomes
//! recorded at once by several threads all count.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p elf-resilience-core --test adaptive_backoff_loom --release`.
#![cfg(loom)]

use elf_resilience_core::AdaptiveBackoff;
use loom::thread;
use std::time::Duration;

/// Runs `mine` here and `theirs` on another thread, on clones sharing one delay.
fn race(mine: fn(&AdaptiveBackoff), theirs: fn(&AdaptiveBackoff)) -> Duration {
    let backoff = AdaptiveBackoff::new(); // 1 s, ×2 on failure, ×0.5 on success
    let other = backoff.clone();
    let t = thread::spawn(move || theirs(&other));
    mine(&backoff);
    t.join().unwrap();
    backoff.current_delay()
}

#[test]
fn two_failures_at_once_double_the_delay_twice() {
    loom::model(|| {
        assert_eq!(
            race(AdaptiveBackoff::record_failure, AdaptiveBackoff::record_failure),
            Duration::from_secs(4)
        );
    });
}

#[test]
fn a_success_and_a_failure_at_once_cancel_out() {
    loom::model(|| {
        assert_eq!(
            race(AdaptiveBackoff::record_success, AdaptiveBackoff::record_failure),
            Duration::from_secs(1)
        );
    });
}
