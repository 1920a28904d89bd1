//! The slot counter: a lock-free fast path, with parking for the callers allowed to wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::barrier;
use crate::clock::Clock;
use crate::stripes::Gauge;

/// Slots in use = slots ever taken − slots ever freed.
///
/// A take is a compare-exchange on `taken`, admitted only if the count stays within `max`
/// with the frees known so far; frees are counted on the freeing thread's stripe, with no
/// locked instruction. Frees are read before takes (a read never counts a free of a take it
/// has not seen), and only from the past, so a take may be refused a slot freed a moment ago
/// but never admitted past `max`.
///
/// Waiters announce themselves, pass the heavy side of an asymmetric fence, then try; a free
/// passes the light side after counting, then looks for waiters. So no wakeup is lost: either
/// the free sees the waiter, or the waiter's try sees the free.
#[derive(Debug)]
pub(crate) struct Slots {
    taken: AtomicUsize,
    freed: Gauge,
    /// A past sum of `freed` (never above the present one): a take sums the stripes only when
    /// this makes the bulkhead look full.
    freed_seen: AtomicUsize,
    max: usize,
    blocking_waiters: AtomicUsize,
    lock: Mutex<()>,
    freed_sync: Condvar,
    #[cfg(feature = "tokio")]
    async_waiters: AtomicUsize,
    #[cfg(feature = "tokio")]
    freed_async: tokio::sync::Notify,
}

impl Slots {
    pub(crate) fn new(max: usize) -> Self {
        barrier::init();
        Self {
            taken: AtomicUsize::new(0),
            freed: Gauge::default(),
            freed_seen: AtomicUsize::new(0),
            max,
            blocking_waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            freed_sync: Condvar::new(),
            #[cfg(feature = "tokio")]
            async_waiters: AtomicUsize::new(0),
            #[cfg(feature = "tokio")]
            freed_async: tokio::sync::Notify::new(),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Slots in use: exact when no take or free runs meanwhile, else possibly counting a free
    /// made a moment ago as still in use (never more than `max`).
    pub(crate) fn in_flight(&self) -> usize {
        let freed = self.freed.get();
        self.taken.load(Ordering::SeqCst).wrapping_sub(freed).min(self.max)
    }

    pub(crate) fn waiting(&self) -> usize {
        let blocking = self.blocking_waiters.load(Ordering::Relaxed);
        #[cfg(feature = "tokio")]
        let blocking = blocking + self.async_waiters.load(Ordering::Relaxed);
        blocking
    }

    #[inline]
    pub(crate) fn try_take(&self) -> bool {
        let mut freed = self.freed_seen.load(Ordering::Acquire);
        let mut taken = self.taken.load(Ordering::SeqCst);
        loop {
            if taken.wrapping_sub(freed) < self.max {
                match self.taken.compare_exchange_weak(
                    taken,
                    taken.wrapping_add(1),
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                ) {
                    Ok(_) => return true,
                    Err(seen) => taken = seen,
                }
                continue;
            }
            // Full by the frees known: count them afresh.
            let now = self.freed.get();
            if now == freed {
                return false;
            }
            self.freed_seen.store(now, Ordering::Release);
            freed = now;
            taken = self.taken.load(Ordering::SeqCst);
        }
    }

    #[inline]
    pub(crate) fn release(&self) {
        self.freed.up();
        barrier::light();
        if self.blocking_waiters.load(Ordering::SeqCst) > 0 {
            drop(self.lock.lock().unwrap_or_else(PoisonError::into_inner));
            self.freed_sync.notify_one();
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
        barrier::heavy();
        let taken = loop {
            if self.try_take() {
                break true;
            }
            let left = deadline.saturating_sub(clock.now());
            if left.is_zero() {
                break false;
            }
            guard = self.freed_sync.wait_timeout(guard, left).unwrap_or_else(PoisonError::into_inner).0;
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
        barrier::heavy();
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
    fn an_async_waiter_is_woken_by_a_free_on_another_thread() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(THREADS)
            .enable_time()
            .build()
            .unwrap();
        let slots = Arc::new(Slots::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..THREADS * 2)
                .map(|_| {
                    let (slots, inside) = (slots.clone(), inside.clone());
                    tokio::spawn(async move {
                        for _ in 0..500 {
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
        });
        assert_eq!(slots.in_flight(), 0);
    }
}
