//! Memory: state transitions, admitted calls and rejections allocate nothing, and breakers
//! made and dropped by name leave nothing behind.
//!
//! This binary counts every heap allocation (its global allocator is instrumented), runs its
//! tests one after another without the test harness, so nothing else allocates while it
//! measures. A release build (`cargo test --release --test process`) drives 10 million
//! transitions; a debug build drives 1 million, to keep the default test run quick.

use elf_resilience_core::{CircuitBreaker, CircuitBreakerRegistry, CircuitState, ManualClock, SlidingWindow};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::fmt::Write as _;
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
pub(crate) fn run() {
    transitions_and_calls_do_not_allocate();
    println!("test transitions_and_calls_do_not_allocate ... ok");
    a_million_distinct_names_leave_memory_flat();
    println!("test a_million_distinct_names_leave_memory_flat ... ok");
}

const NAMES: u64 = 1_000_000;
const BOUND: usize = 1024;

/// Makes breakers `db:op-{from}` to `db:op-{to}` through `registry` and drops them: every
/// other one removed by name (every thousandth after opening it and taking a rejection), the
/// rest left to the registry's bound, as the fallback protocol's per-operation breakers are.
fn churn(registry: &CircuitBreakerRegistry, from: u64, to: u64) {
    let mut name = String::with_capacity(32);
    for i in from..to {
        name.clear();
        let _ = write!(name, "db:op-{i}");
        let cb = registry.get_or_create(&name);
        let _ = cb.call(|| Ok::<_, &str>(()));
        if i % 1000 == 0 {
            let _ = cb.call(|| Err::<(), _>("down"));
            let open = cb.try_acquire().err().map(|open| open.name);
            assert_eq!(open.as_deref(), Some(name.as_str()), "the breaker opened and rejects");
        }
        if i % 2 == 0 {
            assert!(registry.remove(&name).is_some());
        }
    }
}

/// Removes every breaker left in `registry`.
fn empty(registry: &CircuitBreakerRegistry) {
    for cb in registry.all() {
        registry.remove(cb.name());
    }
    assert!(registry.is_empty());
}

/// Net bytes still allocated of those counted by `change` (reallocations are counted in both).
fn net_bytes(change: &stats_alloc::Stats) -> i128 {
    change.bytes_allocated as i128 - change.bytes_deallocated as i128
}

fn a_million_distinct_names_leave_memory_flat() {
    let template = CircuitBreaker::builder().failure_threshold(1);
    let registry = CircuitBreakerRegistry::builder().template(template).max_breakers(BOUND).build().unwrap();
    // Warm-up: the map grows to its steady size (removals leave tombstones, so it grows once
    // past the size its bound needs, then rehashes in place).
    let warm_up = 64 * BOUND as u64;
    churn(&registry, 0, warm_up);
    empty(&registry);
    let region = Region::new(GLOBAL);
    churn(&registry, warm_up, warm_up + NAMES);
    assert!(registry.len() <= BOUND, "{} breakers", registry.len());
    empty(&registry);
    let change = region.change();
    assert!(change.allocations as u64 >= NAMES, "every name made a breaker: {change:?}");
    let net = net_bytes(&change);
    assert!(net.abs() < 4096, "{net} bytes left after {NAMES} names: {change:?}");
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
