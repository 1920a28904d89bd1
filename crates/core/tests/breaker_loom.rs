//! Exhaustive interleavings of the breaker's state word under loom.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p elf-resilience-core --test breaker_loom --release`.
#![cfg(loom)]

use elf_resilience_core::{CircuitBreaker, CircuitState, ManualClock, SlidingWindow};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::time::Duration;

fn half_open(clock: &ManualClock, permits: u32, successes: u32) -> CircuitBreaker {
    let cb = CircuitBreaker::builder()
        .clock(clock.shared())
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(1))
        .half_open_permits(permits)
        .half_open_successes(successes)
        .build()
        .unwrap();
    cb.trip();
    clock.advance(Duration::from_secs(1));
    cb
}

#[test]
fn the_last_probe_slot_goes_to_exactly_one_caller() {
    loom::model(|| {
        let clock = ManualClock::new();
        let cb = half_open(&clock, 2, 2);
        let first = cb.try_acquire_owned().unwrap(); // opens the half-open stay, one slot left
        let admitted = Arc::new(AtomicUsize::new(0));
        let spawn = |cb: CircuitBreaker, admitted: Arc<AtomicUsize>| {
            thread::spawn(move || {
                if let Ok(permit) = cb.try_acquire() {
                    admitted.fetch_add(1, Ordering::SeqCst);
                    std::mem::forget(permit);
                }
            })
        };
        let a = spawn(cb.clone(), admitted.clone());
        let b = spawn(cb.clone(), admitted.clone());
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(admitted.load(Ordering::SeqCst), 1);
        std::mem::forget(first);
        assert_eq!(cb.state(), CircuitState::HalfOpen);
        assert_eq!(cb.stats().rejected_calls, 1);
    });
}

/// Counts the breaker's transitions to open.
fn counting_opens(builder: elf_resilience_core::CircuitBreakerBuilder) -> (CircuitBreaker, Arc<AtomicUsize>) {
    let opened = Arc::new(AtomicUsize::new(0));
    let seen = opened.clone();
    let cb = builder
        .on_state_change(move |_, to| {
            if to == CircuitState::Open {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    (cb, opened)
}

/// Two threads fail one call each at once: the breaker ends open, opened exactly once.
fn two_failures_open_once(cb: &CircuitBreaker, opened: &AtomicUsize) {
    let fail = |cb: CircuitBreaker| thread::spawn(move || drop(cb.call(|| Err::<(), _>("down"))));
    let a = fail(cb.clone());
    let b = fail(cb.clone());
    a.join().unwrap();
    b.join().unwrap();
    assert_eq!(cb.state(), CircuitState::Open);
    assert_eq!(opened.load(Ordering::SeqCst), 1);
    assert_eq!(cb.stats().failed_calls, 2);
}

#[test]
fn concurrent_failures_open_once() {
    loom::model(|| {
        let clock = ManualClock::new();
        let (cb, opened) =
            counting_opens(CircuitBreaker::builder().clock(clock.shared()).failure_threshold(2));
        two_failures_open_once(&cb, &opened);
    });
}

#[test]
fn a_failed_probe_wins_over_a_successful_one() {
    loom::model(|| {
        let clock = ManualClock::new();
        let cb = half_open(&clock, 2, 2);
        let first = cb.try_acquire_owned().unwrap();
        let second = cb.try_acquire_owned().unwrap();
        let a = thread::spawn(move || first.success());
        let b = thread::spawn(move || second.failure());
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(cb.state(), CircuitState::Open);
        assert_eq!(cb.stats().transitions, 3);
    });
}

#[test]
fn success_and_failure_race_in_closed_state() {
    loom::model(|| {
        let clock = ManualClock::new();
        let cb = CircuitBreaker::builder().clock(clock.shared()).failure_threshold(2).build().unwrap();
        drop(cb.call(|| Err::<(), _>("down")));
        let ok = cb.try_acquire_owned().unwrap();
        let bad = cb.try_acquire_owned().unwrap();
        let a = thread::spawn(move || ok.success());
        let b = thread::spawn(move || bad.failure());
        a.join().unwrap();
        b.join().unwrap();
        // Success then failure: one failure in a row, still closed. Failure then success:
        // two in a row opened it, and the late success belongs to the old closed stay.
        let s = cb.stats();
        let outcome = (s.state, s.consecutive_failures);
        assert!(outcome == (CircuitState::Closed, 1) || outcome == (CircuitState::Open, 0), "{outcome:?}");
    });
}

#[test]
fn concurrent_failures_in_a_count_window_open_once() {
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(3);
    model.check(|| {
        let clock = ManualClock::new();
        let builder = CircuitBreaker::builder()
            .clock(clock.shared())
            .failure_threshold(100)
            .sliding_window(SlidingWindow::Count(4))
            .minimum_calls(3)
            .failure_rate_threshold(50.0);
        let (cb, opened) = counting_opens(builder);
        drop(cb.call(|| Ok::<_, &str>(())));
        // Whichever failure is recorded second sees 2 of 3 calls failed.
        two_failures_open_once(&cb, &opened);
    });
}
