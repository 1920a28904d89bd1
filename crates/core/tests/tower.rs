//! Tower layers over `service_fn`, with paused time or a manual clock.
#![cfg(feature = "tower")]

use elf_resilience_core::{
    Bulkhead, BulkheadError, BulkheadLayer, CircuitBreaker, CircuitBreakerError, CircuitBreakerLayer,
    CircuitState, FixedDelay, ManualClock, RateLimitLayer, RateLimitServiceError, RateLimiter, Retry,
    RetryErrorKind, RetryLayer, TimeoutError, TimeoutLayer,
};
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;
use tower::{Layer, Service, ServiceExt, service_fn};

type Io<T> = Result<T, std::io::Error>;

fn sleepy(secs: u64) -> impl Service<u32, Response = u32, Error = &'static str> + Clone {
    service_fn(move |x: u32| async move {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        if x == 0 { Err("zero") } else { Ok(x) }
    })
}

#[tokio::test(start_paused = true)]
async fn timeout_layer_drops_slow_requests() {
    let start = tokio::time::Instant::now();
    let svc = TimeoutLayer::new(Duration::from_secs(3)).layer(sleepy(5));
    let err = svc.clone().oneshot(1).await.unwrap_err();
    assert_eq!(err, TimeoutError::Elapsed(Duration::from_secs(3)));
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    let fast = TimeoutLayer::new(Duration::from_secs(3)).layer(sleepy(2));
    assert_eq!(fast.clone().oneshot(4).await.unwrap(), 4);
    assert_eq!(fast.oneshot(0).await.unwrap_err(), TimeoutError::Inner("zero"));
    assert_eq!(start.elapsed(), Duration::from_secs(7));
}

#[tokio::test]
async fn rate_limit_layer_refuses_beyond_the_rate_across_clones() {
    let clock = ManualClock::new();
    let limiter =
        RateLimiter::builder().per_second(NonZeroU32::new(2).unwrap()).clock(clock.shared()).build().unwrap();
    let layer = RateLimitLayer::new(Arc::new(limiter));
    let echo = service_fn(|x: u32| async move { Io::Ok(x) });
    let a = layer.layer(echo);
    let b = a.clone();
    assert_eq!(a.clone().oneshot(1).await.unwrap(), 1);
    assert_eq!(b.clone().oneshot(2).await.unwrap(), 2);
    match b.clone().oneshot(3).await.unwrap_err() {
        RateLimitServiceError::Limited(l) => assert_eq!(l.retry_after(), Duration::from_millis(500)),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    clock.advance(Duration::from_millis(500));
    assert_eq!(a.oneshot(4).await.unwrap(), 4);
}

#[tokio::test]
async fn rate_limit_layer_passes_inner_errors() {
    let limiter = RateLimiter::builder().per_second(NonZeroU32::new(5).unwrap()).build().unwrap();
    let failing = service_fn(|_: ()| async { Err::<(), _>(std::io::Error::other("down")) });
    let svc = RateLimitLayer::new(Arc::new(limiter)).layer(failing);
    let err = svc.oneshot(()).await.unwrap_err();
    assert_eq!(err.to_string(), "down");
    assert_eq!(err.into_inner().unwrap().kind(), std::io::ErrorKind::Other);
}

#[tokio::test(start_paused = true)]
async fn bulkhead_layer_holds_the_slot_until_the_response_completes() {
    let bulkhead = Bulkhead::new(NonZeroUsize::new(1).unwrap());
    let mut svc = BulkheadLayer::new(bulkhead.clone()).layer(sleepy(1));
    let first = svc.ready().await.unwrap().call(7);
    assert_eq!(bulkhead.in_flight(), 1);
    let shed = svc.ready().await.unwrap().call(8).await.unwrap_err();
    assert!(matches!(shed, BulkheadError::Shed { max_concurrent: 1 }));
    assert_eq!(first.await.unwrap(), 7);
    assert_eq!(bulkhead.in_flight(), 0);
    let err = svc.ready().await.unwrap().call(0).await.unwrap_err();
    assert_eq!(err.into_inner(), Some("zero"));
}

#[tokio::test(start_paused = true)]
async fn bulkhead_layer_frees_the_slot_when_the_response_is_dropped() {
    let bulkhead = Bulkhead::new(NonZeroUsize::new(1).unwrap());
    let mut svc = BulkheadLayer::new(bulkhead.clone()).layer(sleepy(60));
    let abandoned = svc.ready().await.unwrap().call(1);
    assert_eq!(bulkhead.available(), 0);
    drop(abandoned);
    assert_eq!(bulkhead.available(), 1);
}

#[tokio::test(start_paused = true)]
async fn layers_compose_in_a_service_builder() {
    let bulkhead = Bulkhead::new(NonZeroUsize::new(4).unwrap());
    let svc = tower::ServiceBuilder::new()
        .layer(BulkheadLayer::new(bulkhead))
        .layer(TimeoutLayer::new(Duration::from_secs(2)))
        .service(sleepy(3));
    match svc.oneshot(1).await.unwrap_err() {
        BulkheadError::Inner(TimeoutError::Elapsed(d)) => assert_eq!(d, Duration::from_secs(2)),
        other => panic!("expected an elapsed timeout, got {other:?}"),
    }
}

fn breaker(clock: &ManualClock) -> CircuitBreaker {
    CircuitBreaker::builder()
        .name("tower-test")
        .failure_threshold(2)
        .recovery_timeout(Duration::from_secs(30))
        .clock(clock.shared())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn breaker_layer_opens_after_failures_and_recovers() {
    let clock = ManualClock::new();
    let cb = breaker(&clock);
    let svc = CircuitBreakerLayer::new(cb.clone()).layer(sleepy(0));
    assert_eq!(svc.clone().oneshot(3).await.unwrap(), 3);
    for _ in 0..2 {
        assert_eq!(svc.clone().oneshot(0).await.unwrap_err(), CircuitBreakerError::Inner("zero"));
    }
    assert_eq!(cb.state(), CircuitState::Open);
    let err = svc.clone().oneshot(5).await.unwrap_err();
    let open = err.as_open().expect("rejected while open");
    assert_eq!(open.retry_after, Some(Duration::from_secs(30)));
    assert!(err.to_string().starts_with("Circuit breaker 'tower-test' is OPEN"));
    clock.advance(Duration::from_secs(30));
    assert_eq!(svc.oneshot(6).await.unwrap(), 6);
    assert_eq!(cb.state(), CircuitState::Closed);
    let stats = cb.stats();
    assert_eq!((stats.successful_calls, stats.failed_calls, stats.rejected_calls), (2, 2, 1));
}

#[tokio::test(start_paused = true)]
async fn breaker_layer_counts_a_dropped_response_as_a_failure() {
    let clock = ManualClock::new();
    let cb = breaker(&clock);
    let mut svc = CircuitBreakerLayer::new(cb.clone()).layer(sleepy(60));
    for _ in 0..2 {
        drop(svc.ready().await.unwrap().call(1));
    }
    assert_eq!(cb.state(), CircuitState::Open);
    assert_eq!(cb.stats().failed_calls, 2);
}

#[tokio::test(start_paused = true)]
async fn breaker_layer_never_calls_the_service_while_open() {
    let clock = ManualClock::new();
    let cb = breaker(&clock);
    cb.trip();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counting = {
        let calls = calls.clone();
        service_fn(move |_: ()| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Io::Ok(()) }
        })
    };
    let svc = CircuitBreakerLayer::new(cb).layer(counting);
    assert!(svc.oneshot(()).await.unwrap_err().is_open());
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// A service failing its first `failures` calls after 100 ms each; and its call counter.
macro_rules! counting_flaky {
    ($failures:expr) => {{
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = calls.clone();
        let svc = service_fn(move |x: u32| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if n < $failures { Err("busy") } else { Ok(x + n) }
            }
        });
        (svc, calls)
    }};
}

fn every_second(max_retries: u32) -> Retry<FixedDelay> {
    Retry::new(FixedDelay::new().with_delay(Duration::from_secs(1)).with_max_retries(max_retries))
}

#[tokio::test(start_paused = true)]
async fn retry_layer_retries_until_success() {
    let (flaky, calls) = counting_flaky!(2);
    let start = tokio::time::Instant::now();
    let svc = RetryLayer::new(every_second(5)).layer(flaky);
    assert_eq!(svc.oneshot(10).await.unwrap(), 12);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(start.elapsed(), Duration::from_millis(2300));
}

#[tokio::test(start_paused = true)]
async fn retry_layer_gives_up_with_the_attempt_count_and_last_error() {
    let (flaky, calls) = counting_flaky!(u32::MAX);
    let svc = RetryLayer::new(every_second(2)).layer(flaky);
    let err = svc.oneshot(1).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (RetryErrorKind::Exhausted, 3));
    assert_eq!(err.into_inner(), "busy");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn retry_inside_a_breaker_counts_one_outcome_per_request() {
    let clock = ManualClock::new();
    let cb = breaker(&clock);
    let (flaky, calls) = counting_flaky!(u32::MAX);
    let svc = tower::ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(cb.clone()))
        .layer(RetryLayer::new(every_second(1)))
        .service(flaky);
    for _ in 0..2 {
        let err = svc.clone().oneshot(1).await.unwrap_err();
        assert_eq!(err.into_inner().map(|e| e.attempts()), Some(2));
    }
    assert!(svc.oneshot(1).await.unwrap_err().is_open());
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 4);
}
