use crate::support::*;
use elf_resilience_core::{CircuitState, Clock, ManualClock};
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

#[test]
fn mixed_traffic_and_controls_keep_the_books_straight() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .failure_threshold(3)
        .recovery_timeout(secs(1))
        .half_open_permits(2)
        .sliding_window(elf_resilience_core::SlidingWindow::Count(32))
        .minimum_calls(8)
        .build()
        .unwrap();
    let attempts = AtomicU32::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS as u32 {
            let (cb, clock, attempts) = (&cb, &clock, &attempts);
            s.spawn(move || {
                for i in 0..5000u32 {
                    match (i * 7 + t) % 23 {
                        0 => clock.advance(secs(1)),
                        1 if t == 0 => cb.trip(),
                        2 if t == 1 => cb.reset(),
                        n => {
                            attempts.fetch_add(1, Ordering::Relaxed);
                            let _ = if n % 3 == 0 { fail(cb) } else { ok(cb) };
                        }
                    }
                }
            });
        }
    });
    let s = cb.stats();
    assert_eq!(s.total_calls, u64::from(attempts.load(Ordering::Relaxed)));
    assert_eq!(s.successful_calls + s.failed_calls + s.rejected_calls, s.total_calls);
    assert!(s.transitions > 0);
    let booked: std::time::Duration = CircuitState::ALL.iter().map(|&st| s.time_in_states.get(st)).sum();
    assert_eq!(booked, clock.now(), "every instant is booked to exactly one state");
    // Whatever happened, the breaker still works.
    cb.reset();
    assert_eq!(ok(&cb).unwrap(), 1);
}
