//! The retry budget: a sliding window of deposits, shared across threads.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use elf_resilience_core::{ManualClock, RetryBudget};

fn budget(clock: &ManualClock, ratio: f64, min_per_sec: u32) -> RetryBudget {
    RetryBudget::builder()
        .ttl(Duration::from_secs(10))
        .retry_ratio(ratio)
        .min_per_sec(min_per_sec)
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[test]
fn twenty_percent_of_calls_may_retry() {
    let clock = ManualClock::new();
    let b = budget(&clock, 0.2, 0);
    (0..50).for_each(|_| b.deposit());
    assert_eq!(b.available_retries(), 10);
    assert_eq!((0..20).filter(|_| b.withdraw()).count(), 10);
}

#[test]
fn deposits_expire_after_the_ttl_window_slides() {
    let clock = ManualClock::new();
    let b = budget(&clock, 1.0, 0);
    (0..5).for_each(|_| b.deposit());
    clock.advance(Duration::from_secs(5));
    (0..3).for_each(|_| b.deposit());
    assert_eq!(b.available_retries(), 8);
    clock.advance(Duration::from_secs(5)); // the first five are now 10 s old
    assert_eq!(b.available_retries(), 3);
    clock.advance(Duration::from_secs(5));
    assert_eq!(b.available_retries(), 0);
}

#[test]
fn minimum_rate_allows_retries_without_traffic() {
    let clock = ManualClock::new();
    let b = budget(&clock, 0.2, 2);
    assert_eq!(b.available_retries(), 20); // 2 per second over a 10 s window
    assert_eq!((0..30).filter(|_| b.withdraw()).count(), 20);
    clock.advance(Duration::from_secs(10));
    assert_eq!(b.available_retries(), 20);
}

#[test]
fn clones_share_one_budget() {
    let clock = ManualClock::new();
    let a = budget(&clock, 0.5, 0);
    let b = a.clone();
    a.deposit();
    a.deposit();
    assert!(b.withdraw());
    assert!(!a.withdraw());
}

#[test]
fn threads_never_overdraw_by_more_than_one_each() {
    const THREADS: u64 = 8;
    let clock = ManualClock::new();
    let b = budget(&clock, 0.1, 0);
    let granted = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS as usize);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                (0..10_000).for_each(|_| b.deposit());
                barrier.wait();
                let n = (0..2_000).filter(|_| b.withdraw()).count() as u64;
                granted.fetch_add(n, Ordering::Relaxed);
            });
        }
    });
    let granted = granted.into_inner();
    assert!((8_000..8_000 + THREADS).contains(&granted), "granted {granted}");
}
