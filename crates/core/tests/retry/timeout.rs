//! Timeout behaviour under tokio's paused time.

use elf_resilience_core::{Timeout, TimeoutError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

type Io<T> = Result<T, std::io::Error>;

#[tokio::test(start_paused = true)]
async fn a_call_within_the_limit_returns_its_value() {
    let t = Timeout::new(Duration::from_secs(3));
    let start = tokio::time::Instant::now();
    let v = t
        .call_async(async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Io::Ok(5)
        })
        .await
        .unwrap();
    assert_eq!(v, 5);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_is_dropped_at_the_limit() {
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(dropped.clone());
    let t = Timeout::new(Duration::from_millis(1500));
    let start = tokio::time::Instant::now();
    let err = t
        .call_async(async move {
            let _guard = guard;
            tokio::time::sleep(Duration::from_secs(10)).await;
            Io::Ok(())
        })
        .await
        .unwrap_err();
    assert!(err.is_elapsed());
    assert_eq!(start.elapsed(), Duration::from_millis(1500));
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(err.to_string(), "call timed out after 1.5s");
}

#[tokio::test(start_paused = true)]
async fn the_inner_error_passes_through() {
    let t = Timeout::new(Duration::from_secs(1));
    let err = t.call_async(async { Err::<(), _>("refused") }).await.unwrap_err();
    assert_eq!(err, TimeoutError::Inner("refused"));
    assert_eq!(err.into_inner(), Some("refused"));
}

#[tokio::test(start_paused = true)]
async fn a_zero_limit_still_admits_a_ready_call() {
    let t = Timeout::new(Duration::ZERO);
    assert_eq!(t.call_async(async { Io::Ok(1) }).await.unwrap(), 1);
    let pending = t.call_async(async {
        tokio::task::yield_now().await;
        Io::Ok(2)
    });
    assert!(pending.await.unwrap_err().is_elapsed());
}
