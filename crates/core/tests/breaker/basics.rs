use crate::support::*;
use elf_resilience_core::{CircuitBreaker, CircuitBreakerError, CircuitState, ManualClock};

#[test]
fn seed_defaults_are_five_failures_and_sixty_seconds() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::builder().name("OpenAI-API").clock(clock.shared()).build().unwrap();
    for _ in 0..4 {
        assert!(fail(&cb).unwrap_err().is_inner());
    }
    assert_eq!(cb.state(), CircuitState::Closed);
    let _ = fail(&cb);
    assert_eq!(cb.state(), CircuitState::Open);
    let open = ok(&cb).unwrap_err();
    assert_eq!(open.as_open().unwrap().retry_after, Some(secs(60)));
    clock.advance(secs(59));
    assert!(ok(&cb).unwrap_err().is_open());
    clock.advance(secs(1));
    assert_eq!(ok(&cb).unwrap(), 1);
    assert_eq!(cb.state(), CircuitState::Closed);
}

#[test]
fn seed_chaos_test_one_failure_opens() {
    let cb = CircuitBreaker::builder().name("test-breaker").failure_threshold(1).build().unwrap();
    let _ = cb.call(|| Err::<(), _>("division by zero"));
    let err = cb.call(|| Ok::<_, &str>("This should fail")).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("Circuit breaker 'test-breaker' is OPEN"), "{message}");
    assert!(message.contains("retry in 60.0s"), "{message}");
}

#[test]
fn a_success_resets_the_consecutive_count() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 3);
    for _ in 0..10 {
        let _ = fail(&cb);
        let _ = fail(&cb);
        let _ = ok(&cb);
    }
    assert_eq!(cb.state(), CircuitState::Closed);
    assert_eq!(cb.stats().consecutive_failures, 0);
}

#[test]
fn rejected_call_does_not_run() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    let _ = fail(&cb);
    let mut ran = false;
    let out = cb.call(|| {
        ran = true;
        Ok::<_, ApiError>(())
    });
    assert!(!ran);
    assert!(matches!(out, Err(CircuitBreakerError::Open(_))));
}

#[test]
fn half_open_probe_failure_reopens_for_a_full_timeout() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    let _ = fail(&cb);
    clock.advance(secs(10));
    assert!(fail(&cb).unwrap_err().is_inner());
    assert_eq!(cb.state(), CircuitState::Open);
    clock.advance(secs(9));
    let open = ok(&cb).unwrap_err();
    assert_eq!(open.as_open().unwrap().retry_after, Some(secs(1)));
}

#[test]
fn half_open_needs_the_configured_successes() {
    let clock = ManualClock::new();
    let cb =
        builder(&clock).failure_threshold(1).half_open_permits(3).half_open_successes(2).build().unwrap();
    let _ = fail(&cb);
    clock.advance(secs(60));
    let p1 = cb.try_acquire().unwrap();
    let p2 = cb.try_acquire().unwrap();
    let p3 = cb.try_acquire().unwrap();
    let rejected = cb.try_acquire().unwrap_err();
    assert_eq!((rejected.state, rejected.retry_after), (CircuitState::HalfOpen, None));
    assert_eq!(p1.admitted_in(), CircuitState::HalfOpen);
    p1.success();
    assert_eq!(cb.state(), CircuitState::HalfOpen);
    p2.success();
    assert_eq!(cb.state(), CircuitState::Closed);
    p3.failure(); // a probe from the finished half-open stay changes nothing
    assert_eq!(cb.state(), CircuitState::Closed);
    assert_eq!(cb.stats().consecutive_failures, 0);
}

#[test]
fn a_hung_probe_reopens_after_the_half_open_time_limit() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .failure_threshold(1)
        .recovery_timeout(secs(10))
        .max_wait_in_half_open(secs(30))
        .build()
        .unwrap();
    let _ = fail(&cb);
    clock.advance(secs(10));
    let hung = cb.try_acquire().unwrap();
    clock.advance(secs(29));
    let busy = cb.try_acquire().unwrap_err();
    assert_eq!((busy.state, busy.retry_after), (CircuitState::HalfOpen, None));
    clock.advance(secs(1));
    let open = cb.try_acquire().unwrap_err();
    assert_eq!((open.state, open.retry_after), (CircuitState::Open, Some(secs(10))));
    hung.success(); // its stay timed out: the report changes nothing
    assert_eq!(cb.state(), CircuitState::Open);
    clock.advance(secs(10));
    assert_eq!(ok(&cb).unwrap(), 1);
    assert_eq!(cb.state(), CircuitState::Closed);
    let s = cb.stats();
    assert_eq!((s.transitions, s.rejected_calls), (5, 2));
    assert_eq!(s.time_in_states.half_open, secs(30));
}

#[test]
fn a_late_probe_report_reopens_a_timed_out_half_open_stay() {
    let clock = ManualClock::new();
    let cb = builder(&clock).failure_threshold(1).max_wait_in_half_open(secs(5)).build().unwrap();
    cb.trip();
    clock.advance(secs(60));
    let slow = cb.call(|| {
        clock.advance(secs(6));
        Ok::<_, ApiError>(1)
    });
    assert_eq!(slow.unwrap(), 1);
    assert_eq!(cb.state(), CircuitState::Open);
    assert_eq!(cb.stats().successful_calls, 1);
}

#[test]
fn without_a_time_limit_half_open_waits_for_its_probe() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    cb.trip();
    clock.advance(secs(10));
    let hung = cb.try_acquire().unwrap();
    clock.advance(secs(86_400));
    assert_eq!(cb.try_acquire().unwrap_err().state, CircuitState::HalfOpen);
    hung.success();
    assert_eq!(cb.state(), CircuitState::Closed);
}

#[test]
fn a_zero_half_open_time_limit_is_rejected() {
    let err = CircuitBreaker::builder().max_wait_in_half_open(secs(0)).build().unwrap_err();
    assert_eq!(err.to_string(), "max_wait_in_half_open must be longer than zero");
}

#[test]
fn expected_error_predicate_counts_only_matching_errors() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .failure_threshold(2)
        .record_error_if(|e: &ApiError| *e == ApiError::Server)
        .build()
        .unwrap();
    for _ in 0..5 {
        let err = cb.call(|| Err::<(), _>(ApiError::BadRequest)).unwrap_err();
        assert_eq!(err.into_inner(), Some(ApiError::BadRequest));
    }
    assert_eq!(cb.state(), CircuitState::Closed);
    let stats = cb.stats();
    assert_eq!((stats.ignored_calls, stats.failed_calls), (5, 0));
    let _ = fail(&cb);
    let _ = fail(&cb);
    assert_eq!(cb.state(), CircuitState::Open);
}

#[test]
fn ignored_probe_gives_its_slot_back() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .failure_threshold(1)
        .record_error_if(|e: &ApiError| *e == ApiError::Server)
        .build()
        .unwrap();
    let _ = fail(&cb);
    clock.advance(secs(60));
    let _ = cb.call(|| Err::<(), _>(ApiError::BadRequest));
    assert_eq!(cb.state(), CircuitState::HalfOpen);
    assert_eq!(ok(&cb).unwrap(), 1);
    assert_eq!(cb.state(), CircuitState::Closed);
}

#[test]
fn dropped_permit_counts_as_failure() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 2);
    drop(cb.try_acquire().unwrap());
    assert_eq!(cb.stats().consecutive_failures, 1);
    drop(cb.try_acquire_owned().unwrap());
    assert_eq!(cb.state(), CircuitState::Open);
}

#[test]
fn clones_share_one_breaker() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    let other = cb.clone();
    let _ = fail(&other);
    assert!(cb.state().is_open());
    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
    assert_send_sync(&cb);
}

#[tokio::test(start_paused = true)]
async fn call_async_counts_outcomes() {
    let cb = CircuitBreaker::builder().failure_threshold(2).build().unwrap();
    let v = cb.call_async(|| async { Ok::<_, ApiError>(5) }).await.unwrap();
    assert_eq!(v, 5);
    let e = cb.call_async(|| async { Err::<u8, _>(ApiError::Server) }).await.unwrap_err();
    assert_eq!(e.inner(), Some(&ApiError::Server));
    let _ = cb.call_async(|| async { Err::<u8, _>(ApiError::Server) }).await;
    assert!(cb.call_async(|| async { Ok::<_, ApiError>(1) }).await.unwrap_err().is_open());
}

#[tokio::test(start_paused = true)]
async fn async_call_dropped_mid_flight_counts_as_failure() {
    let cb = CircuitBreaker::builder().failure_threshold(1).build().unwrap();
    let slow = cb.call_async(|| async {
        tokio::time::sleep(secs(5)).await;
        Ok::<_, ApiError>(())
    });
    let timed_out = tokio::time::timeout(secs(1), slow).await;
    assert!(timed_out.is_err());
    assert_eq!(cb.state(), CircuitState::Open);
    assert_eq!(cb.stats().failed_calls, 1);
}
