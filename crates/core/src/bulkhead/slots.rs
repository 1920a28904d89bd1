//! The slot counter: a lock-free fast path, with parking for the callers allowed to wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use crate::clock::Clock;

/// `in_flight` counts taken slots. Waiters announce themselves before their last try, and a
/// release checks for them after freeing its slot (both sequentially consistent), so no wakeup
/// is lost: either the release sees the waiter, or the waiter's try sees the free slot.
#[derive(Debug)]
pub(crate) struct Slots {
    in_flight: AtomicUsize,
    max: usize,
    blocking_waiters: AtomicUsize,
    lock: Mutex<()>,
    freed: Condvar,
    #[cfg(feature = "tokio")]
    async_waiters: AtomicUsize,
    #[cfg(feature = "tokio")]
    freed_async: tokio::sync::Notify,
}

impl Slots {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            max,
            blocking_waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            freed: Condvar::new(),
            #[cfg(feature = "tokio")]
            async_waiters: AtomicUsize::new(0),
            #[cfg(feature = "tokio")]
            freed_async: tokio::sync::Notify::new(),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub(crate) fn waiting(&self) -> usize {
        let blocking = self.blocking_waiters.load(Ordering::Relaxed);
        #[cfg(feature = "tokio")]
        let blocking = blocking + self.async_waiters.load(Ordering::Relaxed);
        blocking
    }

    #[inline]
    pub(crate) fn try_take(&self) -> bool {
        let mut taken = self.in_flight.load(Ordering::SeqCst);
        while taken < self.max {
            match self.in_flight.compare_exchange_weak(taken, taken + 1, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return true,
                Err(seen) => taken = seen,
            }
        }
        false
    }

    #[inline]
    pub(crate) fn release(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.blocking_waiters.load(Ordering::SeqCst) > 0 {
            drop(self.lock.lock().unwrap_or_else(PoisonError::into_inner));
            self.freed.notify_one();
        }
        #[cfg(feature = "tokio")]
        if self.async_waiters.load(Ordering::SeqCst) > 0 {
            self.freed_async.notify_one();
        }
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
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.blocking_waiters.fetch_add(1, Ordering::SeqCst);
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
        self.blocking_waiters.fetch_sub(1, Ordering::SeqCst);
        taken
    }

    /// Takes a slot, waiting on tokio's timer up to `max_wait`.
    #[cfg(feature = "tokio")]
    pub(crate) async fn take_async(&self, max_wait: Duration) -> bool {
        if self.try_take() {
            return true;
        }
        if max_wait.is_zero() {
            return false;
        }
        let _announced = Announced::new(&self.async_waiters);
        tokio::time::timeout(max_wait, self.wait_async()).await.is_ok()
    }

    #[cfg(feature = "tokio")]
    async fn wait_async(&self) {
        loop {
            let freed = self.freed_async.notified();
            let mut freed = std::pin::pin!(freed);
            freed.as_mut().enable();
            if self.try_take() {
                return;
            }
            freed.await;
        }
    }
}

/// Counts an async waiter for as long as its future lives, even if it is dropped mid-wait.
#[cfg(feature = "tokio")]
struct Announced<'a>(&'a AtomicUsize);

#[cfg(feature = "tokio")]
impl<'a> Announced<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

#[cfg(feature = "tokio")]
impl Drop for Announced<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
