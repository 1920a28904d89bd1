//! Memory: state transitions, admitted calls and rejections allocate nothing.
//!
//! This binary counts every heap allocation (its global allocator is instrumented), holds a
//! single test and runs without the test harness, so nothing else allocates while it
//! measures. A release build (`cargo test --release --test breaker_memory`) drives 10 million
//! transitions; a debug build drives 1 million, to keep the default test run quick.

use elf_resilience_core::{CircuitBreaker, CircuitState, ManualClock, SlidingWindow};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const TRANSITIONS: u64 = if cfg!(debug_assertions) { 1_000_000 } else { 10_000_000 };

/// One round: closed → open → half-open → closed → forced open → disabled → closed
/// (6 transitions), with successes, failures, a slow call and rejections on the way.
fn round(cb: &CircuitBreaker, clock: &ManualClock) {
    let _ = cb.call(|| Ok::<_, &str>(()));
    let _ = cb.call(|| Err::<(), _>("down"));
    let _ = cb.call(|| Err::<(), _>("down"));
    let rejected = cb.call(|| Ok::<_, &str>(()));
    assert!(rejected.is_err_and(|e| e.is_open()));
    clock.advance(Duration::from_secs(1));
    let _ = cb.call(|| {
        clock.advance(Duration::from_millis(300));
        Ok::<_, &str>(())
    });
    cb.force_open();
    cb.disable();
    cb.reset();
}

// Run without the test harness (`harness = false`): the harness's own thread may allocate
// (its first wait for the test's result) while the test counts.
fn main() {
    transitions_and_calls_do_not_allocate();
    println!("test transitions_and_calls_do_not_allocate ... ok");
}

fn transitions_and_calls_do_not_allocate() {
    let clock = ManualClock::new();
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let cb = CircuitBreaker::builder()
        .name("memory")
        .clock(clock.shared())
        .failure_threshold(2)
        .recovery_timeout(Duration::from_secs(1))
        .sliding_window(SlidingWindow::Count(16))
        .minimum_calls(16)
        .slow_call_duration(Duration::from_millis(200))
        .slow_call_rate_threshold(100.0)
        .on_state_change(move |_, _| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    // Warm-up: thread-local stripe index, tracing call sites.
    for _ in 0..10 {
        round(&cb, &clock);
    }
    let before = seen.load(Ordering::Relaxed);
    let rounds = TRANSITIONS.div_ceil(6);
    let region = Region::new(GLOBAL);
    for _ in 0..rounds {
        round(&cb, &clock);
    }
    let change = region.change();
    assert_eq!(seen.load(Ordering::Relaxed) - before, rounds * 6, "every round makes 6 transitions");
    assert_eq!(change.allocations, 0, "{change:?}");
    assert_eq!(change.reallocations, 0, "{change:?}");
    assert_eq!(change.bytes_allocated, 0, "{change:?}");
    assert_eq!(cb.state(), CircuitState::Closed);
}
