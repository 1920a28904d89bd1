//! Bulkhead behaviour: limits, shedding, bounded waits, permits and panics.

use elf_resilience_core::{Bulkhead, BulkheadError};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

type Io<T> = Result<T, std::io::Error>;

#[test]
fn admits_up_to_the_limit_then_sheds() {
    let b = Bulkhead::builder(nz(2)).name("db").build();
    let p1 = b.try_acquire().unwrap();
    let _p2 = b.try_acquire().unwrap();
    assert_eq!((b.in_flight(), b.available()), (2, 0));
    let err = b.try_acquire().unwrap_err();
    assert_eq!(err, BulkheadError::Shed { max_concurrent: 2 });
    assert_eq!(err.to_string(), "bulkhead full: 2 calls already in flight, call shed");
    drop(p1);
    assert_eq!(b.available(), 1);
    assert_eq!(b.call(|| Io::Ok(7)).unwrap(), 7);
    assert_eq!(b.name(), "db");
}

#[test]
fn call_passes_the_inner_error_through() {
    let b = Bulkhead::new(nz(1));
    let err = b.call(|| Err::<(), _>("boom")).unwrap_err();
    assert!(!err.is_rejected());
    assert_eq!(err.into_inner(), Some("boom"));
    assert_eq!(b.in_flight(), 0);
}

#[test]
fn a_panicking_call_frees_its_slot() {
    let b = Bulkhead::new(nz(1));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        b.call(|| -> Io<()> { panic!("guarded call panicked") })
    }));
    assert!(caught.is_err());
    assert_eq!(b.in_flight(), 0);
    assert_eq!(b.call(|| Io::Ok(1)).unwrap(), 1);
}

#[test]
fn clones_share_the_slots() {
    let a = Bulkhead::new(nz(1));
    let b = a.clone();
    let _held = a.try_acquire().unwrap();
    assert!(b.try_acquire().unwrap_err().is_shed());
}

#[test]
fn a_blocking_waiter_gets_the_slot_when_it_is_freed() {
    let b = Bulkhead::builder(nz(1)).max_wait(Duration::from_secs(600)).build();
    let held = b.try_acquire().unwrap();
    a_blocked_caller_runs_once_freed(&b, held);
}

#[test]
fn no_more_than_the_limit_run_at_once_under_contention() {
    let b = Bulkhead::new(nz(3));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (b, running, peak) = (b.clone(), running.clone(), peak.clone());
            std::thread::spawn(move || {
                let mut admitted = 0;
                for _ in 0..2000 {
                    let r = b.call(|| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        running.fetch_sub(1, Ordering::SeqCst);
                        Io::Ok(())
                    });
                    admitted += usize::from(r.is_ok());
                }
                admitted
            })
        })
        .collect();
    let admitted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(admitted > 0);
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert_eq!(b.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn async_waiter_times_out_after_max_wait() {
    let b = Bulkhead::builder(nz(1)).max_wait(Duration::from_secs(5)).build();
    let _held = b.try_acquire().unwrap();
    let start = tokio::time::Instant::now();
    let err = b.call_async(async { Io::Ok(()) }).await.unwrap_err();
    assert_eq!(err.to_string(), "bulkhead full: no slot of 1 freed within 5s", "{err:?}");
    assert!(matches!(err, BulkheadError::WaitTimedOut { max_concurrent: 1, .. }));
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(b.waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn async_waiter_runs_when_a_slot_frees() {
    let b = Bulkhead::builder(nz(1)).max_wait(Duration::from_secs(5)).build();
    let held = b.try_acquire().unwrap();
    let start = tokio::time::Instant::now();
    let release = async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(held);
    };
    let (_, got) = tokio::join!(release, b.call_async(async { Io::Ok("ran") }));
    assert_eq!(got.unwrap(), "ran");
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(b.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn async_without_wait_sheds_and_never_polls_the_call() {
    let b = Bulkhead::new(nz(1));
    let _held = b.acquire_async().await.unwrap();
    let polled = AtomicUsize::new(0);
    let err = b
        .call_async(async {
            polled.fetch_add(1, Ordering::SeqCst);
            Io::Ok(())
        })
        .await
        .unwrap_err();
    assert!(err.is_shed());
    assert_eq!(polled.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_async_waiter_stops_counting() {
    let b = Bulkhead::builder(nz(1)).max_wait(Duration::from_secs(60)).build();
    let held = b.try_acquire().unwrap();
    let waiter = tokio::spawn({
        let b = b.clone();
        async move { b.acquire_async().await.map(drop) }
    });
    tokio::task::yield_now().await;
    assert_eq!(b.waiting(), 1);
    waiter.abort();
    let _ = waiter.await;
    assert_eq!(b.waiting(), 0);
    drop(held);
    assert_eq!(b.available(), 1);
}

#[tokio::test(start_paused = true)]
async fn blocking_and_async_callers_share_one_limit() {
    let b = Bulkhead::builder(nz(2)).max_wait(Duration::from_secs(5)).build();
    let async_held = b.acquire_async().await.unwrap();
    let sync_held = b.acquire().unwrap();
    assert_eq!(b.in_flight(), 2);
    assert!(b.try_acquire().unwrap_err().is_shed(), "an async and a blocking permit fill two slots");
    let err = b.call_async(async { Io::Ok(()) }).await.unwrap_err();
    assert!(matches!(err, BulkheadError::WaitTimedOut { max_concurrent: 2, .. }), "{err:?}");
    drop(sync_held);
    assert_eq!(b.call_async(async { Io::Ok(3) }).await.unwrap(), 3, "a blocking caller's slot serves async");
    drop(async_held);
    assert_eq!(b.call(|| Io::Ok(4)).unwrap(), 4);
    assert_eq!(b.available(), 2);
}

#[test]
fn a_blocked_thread_gets_a_slot_freed_by_an_async_permit() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let b = Bulkhead::builder(nz(1)).max_wait(Duration::from_secs(600)).build();
    let held = rt.block_on(b.acquire_async()).unwrap();
    a_blocked_caller_runs_once_freed(&b, held);
}

/// A thread calls through `b` while `held` takes its only slot: it waits, and runs once `held`
/// is dropped.
fn a_blocked_caller_runs_once_freed(b: &Bulkhead, held: elf_resilience_core::BulkheadPermit) {
    let waiter = {
        let b = b.clone();
        std::thread::spawn(move || b.call(|| Io::Ok(b.in_flight())))
    };
    while b.waiting() == 0 {
        std::thread::yield_now();
    }
    drop(held);
    assert_eq!(waiter.join().unwrap().unwrap(), 1);
    assert_eq!((b.in_flight(), b.waiting()), (0, 0));
}
