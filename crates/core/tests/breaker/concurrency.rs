use crate::support::*;
use elf_resilience_core::{CircuitState, ManualClock};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, Ordering};

const THREADS: usize = 8;

#[test]
fn half_open_admits_exactly_the_permitted_probes() {
    for permits in [1, 3, 5] {
        let clock = ManualClock::new();
        let cb = builder(&clock)
            .failure_threshold(1)
            .recovery_timeout(secs(1))
            .half_open_permits(permits)
            .build()
            .unwrap();
        let _ = fail(&cb);
        clock.advance(secs(1));
        let admitted = AtomicU32::new(0);
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    barrier.wait();
                    let held: Vec<_> = (0..1000).filter_map(|_| cb.try_acquire().ok()).collect();
                    admitted.fetch_add(held.len() as u32, Ordering::Relaxed);
                    std::mem::forget(held); // probes stay in flight
                });
            }
        });
        assert_eq!(admitted.load(Ordering::Relaxed), permits);
        assert_eq!(cb.state(), CircuitState::HalfOpen);
        assert_eq!(cb.stats().rejected_calls, THREADS as u64 * 1000 - u64::from(permits));
    }
}

#[test]
fn concurrent_failures_are_all_counted() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 10_000);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..1000).for_each(|_| drop(fail(&cb))));
        }
    });
    assert_eq!(cb.stats().consecutive_failures, 8000);
    assert_eq!(cb.state(), CircuitState::Closed);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..250).for_each(|_| drop(fail(&cb))));
        }
    });
    assert_eq!(cb.state(), CircuitState::Open, "exactly the 10,000th failure opens");
    let s = cb.stats();
    assert_eq!(s.failed_calls + s.rejected_calls, 10_000);
    assert_eq!(s.rejected_calls, 0);
}

#[test]
fn hammering_probes_close_once_and_counters_add_up() {
    let clock = ManualClock::new();
    let cb =
        builder(&clock).failure_threshold(1).half_open_permits(4).half_open_successes(4).build().unwrap();
    let _ = fail(&cb);
    clock.advance(secs(60));
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                (0..2000).for_each(|_| drop(ok(&cb)));
            });
        }
    });
    let s = cb.stats();
    assert_eq!(s.state, CircuitState::Closed);
    assert_eq!(s.total_calls, 1 + THREADS as u64 * 2000);
    assert_eq!(s.successful_calls + s.rejected_calls, THREADS as u64 * 2000);
    assert_eq!(s.transitions, 3);
}
