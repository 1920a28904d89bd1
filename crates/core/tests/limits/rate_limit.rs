//! Rate limiter behaviour under a manual clock and tokio's paused time.

use elf_resilience_core::{
    ManualClock, Quota, RateLimitConfigError, RateLimitError, RateLimited, RateLimiter, TokioClock,
};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn limiter(per_second: u32, burst: u32) -> (RateLimiter, ManualClock) {
    let clock = ManualClock::new();
    let l = RateLimiter::builder()
        .per_second(nz(per_second))
        .burst(nz(burst))
        .clock(clock.shared())
        .build()
        .unwrap();
    (l, clock)
}

#[test]
fn burst_is_allowed_then_one_per_interval() {
    let (l, clock) = limiter(10, 3);
    for _ in 0..3 {
        l.check().unwrap();
    }
    assert_eq!(l.check(), Err(RateLimited::new(Duration::from_millis(100))));
    clock.advance(Duration::from_millis(60));
    assert_eq!(l.check().unwrap_err().retry_after(), Duration::from_millis(40));
    clock.advance(Duration::from_millis(40));
    l.check().unwrap();
    assert!(l.check().is_err());
}

#[test]
fn long_idle_refills_only_up_to_burst() {
    let (l, clock) = limiter(1, 2);
    l.check().unwrap();
    l.check().unwrap();
    clock.advance(Duration::from_secs(3600));
    l.check().unwrap();
    l.check().unwrap();
    assert_eq!(l.check().unwrap_err().retry_after(), Duration::from_secs(1));
}

#[test]
fn rejections_do_not_consume_cells() {
    let (l, clock) = limiter(1, 1);
    l.check().unwrap();
    for _ in 0..100 {
        assert!(l.check().is_err());
    }
    clock.advance(Duration::from_secs(1));
    l.check().unwrap();
}

#[test]
fn check_n_takes_several_cells_or_none() {
    let (l, clock) = limiter(4, 4);
    l.check_n(nz(3)).unwrap();
    let err = l.check_n(nz(2)).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_millis(250)));
    l.check().unwrap();
    clock.advance(Duration::from_millis(500));
    l.check_n(nz(2)).unwrap();
    assert!(l.check().is_err());
}

#[test]
fn check_n_beyond_burst_is_insufficient_capacity() {
    let (l, _clock) = limiter(10, 5);
    let err = l.check_n(nz(6)).unwrap_err();
    assert_eq!(err, RateLimitError::InsufficientCapacity { requested: 6, burst: 5 });
    assert_eq!(err.retry_after(), None);
    assert_eq!(err.to_string(), "6 cells requested but the burst allows at most 5");
    l.check_n(nz(5)).unwrap();
}

#[test]
fn rejection_display_says_when() {
    let (l, _clock) = limiter(2, 1);
    l.check().unwrap();
    assert_eq!(l.check().unwrap_err().to_string(), "rate limited: try again in 500ms");
}

#[test]
fn builder_rejects_bad_config() {
    assert_eq!(RateLimiter::builder().build().unwrap_err(), RateLimitConfigError::MissingRate);
    let zero = RateLimiter::builder().period(Duration::ZERO).build().unwrap_err();
    assert_eq!(zero, RateLimitConfigError::ZeroPeriod);
    let long =
        RateLimiter::builder().period(Duration::from_secs(10_000_000_000)).burst(nz(10)).build().unwrap_err();
    assert!(matches!(long, RateLimitConfigError::TooLong { burst: 10, .. }));
}

#[test]
fn quota_keeps_its_burst_unless_overridden() {
    let q = Quota::per_minute(nz(6)).allow_burst(nz(2));
    let l = RateLimiter::builder().quota(q).build().unwrap();
    assert_eq!(l.quota().burst_size(), nz(2));
    assert_eq!(l.quota().replenish_interval(), Duration::from_secs(10));
    assert_eq!(l.quota().burst_window(), Duration::from_secs(20));
}

#[test]
fn contended_threads_never_exceed_the_burst() {
    let clock = ManualClock::new();
    let l = Arc::new(RateLimiter::with_clock(Quota::per_second(nz(1000)), clock.clone()).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let l = Arc::clone(&l);
            std::thread::spawn(move || (0..1000).filter(|_| l.check().is_ok()).count())
        })
        .collect();
    let allowed: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(allowed, 1000);
}

#[tokio::test(start_paused = true)]
async fn until_ready_waits_for_the_next_cell() {
    let l =
        RateLimiter::builder().per_second(nz(4)).burst(nz(1)).clock(TokioClock::shared()).build().unwrap();
    let start = tokio::time::Instant::now();
    l.until_ready().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    l.until_ready().await;
    assert_eq!(start.elapsed(), Duration::from_millis(250));
    l.until_ready().await;
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn until_n_ready_waits_or_refuses_oversized_batches() {
    let l =
        RateLimiter::builder().per_second(nz(10)).burst(nz(5)).clock(TokioClock::shared()).build().unwrap();
    let start = tokio::time::Instant::now();
    l.until_n_ready(nz(5)).await.unwrap();
    l.until_n_ready(nz(3)).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(300));
    let err = l.until_n_ready(nz(6)).await.unwrap_err();
    assert!(matches!(err, RateLimitError::InsufficientCapacity { requested: 6, burst: 5 }));
    assert_eq!(start.elapsed(), Duration::from_millis(300));
}
