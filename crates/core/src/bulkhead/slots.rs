//! The slot count: tokio's `Semaphore`, and a `Condvar` for the threads that block on it.
//!
//! The count of free slots is the semaphore's permits, so async and blocking callers share one
//! limit. An async caller takes a permit with `try_acquire`, or waits in the semaphore's own
//! queue. A blocking caller cannot wait in that queue without a runtime: it waits on a
//! `Condvar` instead, which every free notifies while a blocking caller is waiting. Taking and
//! freeing never lock when nobody blocks; a free then costs the semaphore's own release and
//! one fence.

use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::Clock;
use tokio::sync::Semaphore;

/// A bulkhead's slots: `max` permits of one semaphore.
///
/// A free adds its permit back, passes a full fence, then looks for blocking waiters; a
/// blocking waiter counts itself (under `lock`), passes a full fence, then tries to take a
/// permit. So no wakeup is lost: either the free sees the waiter and notifies it (after taking
/// `lock`, so the waiter is already waiting or about to try again), or the waiter's try sees
/// the freed permit. `slots_model` checks this hand-over under loom; keep it in step.
#[derive(Debug)]
pub(crate) struct Slots {
    free: Semaphore,
    max: usize,
    /// Threads blocked in [`take_blocking`](Self::take_blocking), changed under `lock`.
    blocking_waiters: AtomicUsize,
    lock: Mutex<()>,
    freed: Condvar,
    async_waiters: AtomicUsize,
}

impl Slots {
    /// `max` slots, at most [`Semaphore::MAX_PERMITS`] (a larger limit is capped there).
    pub(crate) fn new(max: usize) -> Self {
        let max = max.min(Semaphore::MAX_PERMITS);
        Self {
            free: Semaphore::new(max),
            max,
            blocking_waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            freed: Condvar::new(),
            async_waiters: AtomicUsize::new(0),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Slots in use right now.
    pub(crate) fn in_flight(&self) -> usize {
        self.max - self.free.available_permits()
    }

    pub(crate) fn waiting(&self) -> usize {
        self.blocking_waiters.load(Ordering::Relaxed) + self.async_waiters.load(Ordering::Relaxed)
    }

    /// Takes a slot if one is free (and no async caller is queued for it).
    #[inline]
    pub(crate) fn try_take(&self) -> bool {
        match self.free.try_acquire() {
            Ok(permit) => {
                permit.forget();
                true
            }
            Err(_) => false,
        }
    }

    /// Gives a slot back: to the first async waiter if one is queued, else to whoever takes it
    /// next; wakes a blocked thread if one waits.
    #[inline]
    pub(crate) fn release(&self) {
        self.free.add_permits(1);
        fence(Ordering::SeqCst);
        if self.blocking_waiters.load(Ordering::Relaxed) > 0 {
            self.wake_one();
        }
    }

    #[cold]
    fn wake_one(&self) {
        drop(self.locked());
        self.freed.notify_one();
    }

    fn locked(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a slot, blocking the thread up to `max_wait` (as measured by `clock`).
    pub(crate) fn take_blocking(&self, max_wait: Duration, clock: &dyn Clock) -> bool {
        if self.try_take() {
            return true;
        }
        if max_wait.is_zero() {
            return false;
        }
        let deadline = clock.now().saturating_add(max_wait);
        let mut guard = self.locked();
        self.blocking_waiters.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let taken = loop {
            if self.try_take() {
                break true;
            }
            let left = deadline.saturating_sub(clock.now());
            if left.is_zero() {
                break false;
            }
            guard = self.freed.wait_timeout(guard, left).unwrap_or_else(PoisonError::into_inner).0;
        };
        self.blocking_waiters.fetch_sub(1, Ordering::Relaxed);
        taken
    }

    /// Takes a slot, waiting in the semaphore's queue on tokio's timer up to `max_wait`.
    #[cfg(feature = "tokio")]
    pub(crate) async fn take_async(&self, max_wait: Duration) -> bool {
        if self.try_take() {
            return true;
        }
        if max_wait.is_zero() {
            return false;
        }
        let _announced = Announced::new(&self.async_waiters);
        match tokio::time::timeout(max_wait, self.free.acquire()).await {
            Ok(Ok(permit)) => {
                permit.forget();
                true
            }
            // The semaphore is never closed.
            Ok(Err(_)) | Err(_) => false,
        }
    }
}

/// Counts an async waiter for as long as its future lives, even if it is dropped mid-wait.
#[cfg(feature = "tokio")]
struct Announced<'a>(&'a AtomicUsize);

#[cfg(feature = "tokio")]
impl<'a> Announced<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

#[cfg(feature = "tokio")]
impl Drop for Announced<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use std::sync::Arc;

    const THREADS: usize = 4;

    /// Runs `body` on [`THREADS`] threads sharing `slots` and a count of the callers inside.
    fn on_threads(slots: &Arc<Slots>, body: fn(&Slots, &AtomicUsize)) {
        let inside = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (slots, inside) = (slots.clone(), inside.clone());
                std::thread::spawn(move || body(&slots, &inside))
            })
            .collect();
        for h in handles {
            h.join().expect("no thread panics");
        }
        assert_eq!(slots.in_flight(), 0, "every slot taken was freed");
    }

    /// Asserts that at most `slots.max` callers are inside, from entering to leaving.
    fn inside_once(slots: &Slots, inside: &AtomicUsize) {
        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(now <= slots.max(), "{now} callers inside a bulkhead of {}", slots.max());
        assert!(slots.in_flight() <= slots.max());
        inside.fetch_sub(1, Ordering::SeqCst);
        slots.release();
    }

    #[test]
    fn a_huge_limit_is_capped_at_the_semaphores_maximum() {
        let slots = Slots::new(usize::MAX);
        assert_eq!(slots.max(), Semaphore::MAX_PERMITS);
        assert!(slots.try_take());
        assert_eq!(slots.in_flight(), 1);
    }

    #[test]
    fn takes_never_exceed_the_limit_with_frees_on_every_thread() {
        let slots = Arc::new(Slots::new(2));
        on_threads(&slots, |slots, inside| {
            let mut taken = 0;
            while taken < 5_000 {
                if slots.try_take() {
                    taken += 1;
                    inside_once(slots, inside);
                } else {
                    std::thread::yield_now();
                }
            }
        });
        assert!(slots.try_take() && slots.try_take() && !slots.try_take(), "both slots free again, no third");
    }

    #[test]
    fn a_blocked_waiter_is_woken_by_a_free_on_another_thread() {
        // One slot, four threads taking it in turn: each take past the first waits for a free
        // made on another thread; a lost wakeup would leave a waiter to its 30 s limit.
        let slots = Arc::new(Slots::new(1));
        on_threads(&slots, |slots, inside| {
            for _ in 0..2_000 {
                assert!(slots.take_blocking(Duration::from_secs(30), &SystemClock), "a waiter timed out");
                inside_once(slots, inside);
            }
        });
    }

    #[cfg(feature = "tokio")]
    #[test]
    fn blocking_and_async_callers_share_one_limit() {
        // Threads blocking and tasks waiting take the same two slots in turn: neither kind
        // ever sees more than two inside, and no waiter of either kind is left asleep.
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        let slots = Arc::new(Slots::new(2));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (slots, inside) = (slots.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        assert!(
                            slots.take_blocking(Duration::from_secs(30), &SystemClock),
                            "a thread timed out"
                        );
                        inside_once(&slots, &inside);
                    }
                })
            })
            .collect();
        rt.block_on(on_tasks(&slots, &inside, THREADS, 1_000));
        for t in threads {
            t.join().expect("no thread panics");
        }
        assert_eq!((slots.in_flight(), slots.waiting()), (0, 0));
    }

    #[cfg(feature = "tokio")]
    #[test]
    fn an_async_waiter_is_woken_by_a_free_on_another_thread() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(THREADS)
            .enable_time()
            .build()
            .unwrap();
        let slots = Arc::new(Slots::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        rt.block_on(on_tasks(&slots, &inside, THREADS * 2, 500));
        assert_eq!(slots.in_flight(), 0);
    }

    /// `tasks` tasks each taking a slot `rounds` times in turn (waiting if need be), with a
    /// yield between turns.
    #[cfg(feature = "tokio")]
    async fn on_tasks(slots: &Arc<Slots>, inside: &Arc<AtomicUsize>, tasks: usize, rounds: usize) {
        let tasks: Vec<_> = (0..tasks)
            .map(|_| {
                let (slots, inside) = (slots.clone(), inside.clone());
                tokio::spawn(async move {
                    for _ in 0..rounds {
                        assert!(slots.take_async(Duration::from_secs(30)).await, "a waiter timed out");
                        inside_once(&slots, &inside);
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("no task panics");
        }
    }
}
