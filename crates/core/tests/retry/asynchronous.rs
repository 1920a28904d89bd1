//! Async retries under tokio's paused time: waits are real tokio sleeps that take no time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use elf_resilience_core::{ExponentialBackoff, FixedDelay, Retry, RetryAfterHint, RetryErrorKind};
use tokio::time::Instant;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn counter() -> Arc<AtomicU32> {
    Arc::new(AtomicU32::new(0))
}

#[tokio::test(start_paused = true)]
async fn waits_the_schedule_in_tokio_time() {
    let start = Instant::now();
    let calls = counter();
    let c = calls.clone();
    let got = Retry::with_max_retries(3)
        .call_async(|| {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            async move { if n < 4 { Err(n) } else { Ok(n) } }
        })
        .await;
    assert_eq!(got, Ok(4));
    assert_eq!(start.elapsed(), secs(7));
}

#[tokio::test(start_paused = true)]
async fn seed_custom_policy_async() {
    let start = Instant::now();
    let policy = ExponentialBackoff::try_new(5, Duration::from_millis(500), 3.0, secs(30), false).unwrap();
    let err = Retry::new(policy).call_async(|| async { Err::<(), _>("api down") }).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (RetryErrorKind::Exhausted, 6));
    assert_eq!(start.elapsed(), secs(50));
}

#[tokio::test(start_paused = true)]
async fn max_elapsed_uses_tokio_time_by_default() {
    let start = Instant::now();
    let retry = Retry::new(FixedDelay::new().with_delay(secs(3)).without_max_retries()).max_elapsed(secs(19));
    let err = retry
        .call_async(|| async {
            tokio::time::sleep(secs(2)).await;
            Err::<(), _>("slow")
        })
        .await
        .unwrap_err();
    // Each round is 2 s of work + 3 s of waiting: t = 2, 7, 12, 17; 17 + 3 > 19.
    assert!(err.is_elapsed_limit());
    assert_eq!(err.attempts(), 4);
    assert_eq!(start.elapsed(), secs(17));
}

struct Quota(Duration);

impl RetryAfterHint for Quota {
    fn retry_after(&self) -> Option<Duration> {
        Some(self.0)
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_hint_async() {
    let start = Instant::now();
    let calls = counter();
    let c = calls.clone();
    let got = Retry::with_max_retries(2)
        .retry_after_hint()
        .call_async(|| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move { if n == 0 { Err(Quota(secs(45))) } else { Ok("served") } }
        })
        .await;
    assert!(matches!(got, Ok("served")));
    assert_eq!(start.elapsed(), secs(45));
}

#[tokio::test(start_paused = true)]
async fn custom_async_sleeper_and_notify() {
    let slept = Arc::new(std::sync::Mutex::new(Vec::new()));
    let notified = counter();
    let (s, n) = (slept.clone(), notified.clone());
    let retry = Retry::with_max_retries(2)
        .notify(move |_, _, _: &&str| {
            n.fetch_add(1, Ordering::SeqCst);
        })
        .sleeper(move |d| {
            s.lock().unwrap().push(d);
            async {}
        });
    let start = Instant::now();
    let err = retry.call_async(|| async { Err::<(), _>("no") }).await.unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(*slept.lock().unwrap(), [secs(1), secs(2)]);
    assert_eq!(notified.load(Ordering::SeqCst), 2);
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn retried_future_is_send_and_spawnable() {
    let retry = Arc::new(Retry::with_max_retries(1));
    let r = retry.clone();
    let handle = tokio::spawn(async move { r.call_async(|| async { Err::<(), _>("x") }).await });
    let err = handle.await.unwrap().unwrap_err();
    assert_eq!(err.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_on_result_exhaustion_async_reports_attempts_and_keeps_the_value() {
    let start = Instant::now();
    let calls = counter();
    let c = calls.clone();
    let retry = Retry::with_max_retries(3).retry_on_result(|status: &u16| *status == 503);
    let err = retry
        .call_async(|| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<u16, std::io::Error>(if n < 10 { 503 } else { 200 }) }
        })
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (RetryErrorKind::Exhausted, 4));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(err.rejected_value(), Some(&503));
    assert_eq!(err.to_string(), "retries exhausted after 4 attempts: the last result was rejected");
    assert_eq!(start.elapsed(), secs(1 + 2 + 4));
}

#[tokio::test(start_paused = true)]
async fn retry_on_result_async_accepts_a_later_value() {
    let start = Instant::now();
    let calls = counter();
    let c = calls.clone();
    let got = Retry::with_max_retries(3)
        .retry_on_result(|status: &u16| *status == 503)
        .call_async(|| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<u16, ()>(if n < 2 { 503 } else { 200 }) }
        })
        .await;
    assert_eq!(got, Ok(200));
    assert_eq!(start.elapsed(), secs(1 + 2));
}

#[tokio::test(start_paused = true)]
async fn retry_on_result_async_stops_at_the_time_limit() {
    let start = Instant::now();
    let retry = Retry::new(FixedDelay::new().with_delay(secs(5)).without_max_retries())
        .retry_on_result(|v: &&str| *v == "pending")
        .max_elapsed(secs(12));
    let err = retry.call_async(|| async { Ok::<_, ()>("pending") }).await.unwrap_err();
    // Waits end at 5 s and 10 s; a third would end at 15 s, past 12 s.
    assert_eq!((err.kind(), err.attempts()), (RetryErrorKind::ElapsedLimit, 3));
    assert_eq!(err.into_last(), Ok("pending"));
    assert_eq!(start.elapsed(), secs(10));
}

#[cfg(feature = "tower")]
#[tokio::test(start_paused = true)]
async fn retry_layer_reports_a_rejected_response() {
    use elf_resilience_core::RetryLayer;
    use tower::{Layer, ServiceExt, service_fn};

    let calls = counter();
    let c = calls.clone();
    let svc = service_fn(move |_: ()| {
        c.fetch_add(1, Ordering::SeqCst);
        async { Ok::<u16, std::io::Error>(429) }
    });
    let retry = Retry::new(FixedDelay::new().with_delay(secs(1)).with_max_retries(2))
        .retry_on_result(|status: &u16| *status == 429);
    let err = RetryLayer::new(retry).layer(svc).oneshot(()).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.attempts(), err.rejected_value()),
        (RetryErrorKind::Exhausted, 3, Some(&429))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
