//! The wakeup hand-over of [`Slots`](super::slots::Slots) under loom: a blocked thread is
//! never left waiting while a slot is free. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p elf-resilience-core --lib --release bulkhead::slots_model`.
//!
//! tokio's semaphore is not loom-aware, so the model keeps the free count in one loom atomic
//! and follows `Slots::release` and `Slots::take_blocking` step for step: a free adds its
//! permit, passes a full fence, then looks for blocked waiters; a waiter counts itself under
//! the lock, passes a full fence, then tries to take a permit. A lost wakeup is a deadlock,
//! which loom reports. Keep the two in step.

use loom::sync::atomic::{AtomicUsize, Ordering, fence};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// The slots: free permits, blocked waiters, and the lock and condvar they wait on.
struct Model {
    free: AtomicUsize,
    blocking_waiters: AtomicUsize,
    lock: Mutex<()>,
    freed: Condvar,
}

impl Model {
    fn new(free: usize) -> Self {
        Self {
            free: AtomicUsize::new(free),
            blocking_waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            freed: Condvar::new(),
        }
    }

    fn try_take(&self) -> bool {
        let take = |n: usize| n.checked_sub(1);
        self.free.fetch_update(Ordering::Acquire, Ordering::Acquire, take).is_ok()
    }

    fn release(&self) {
        self.free.fetch_add(1, Ordering::Release);
        fence(Ordering::SeqCst);
        if self.blocking_waiters.load(Ordering::Relaxed) > 0 {
            drop(self.lock.lock().unwrap());
            self.freed.notify_one();
        }
    }

    /// `take_blocking` without its deadline: waits until a slot is taken.
    fn take_blocking(&self) {
        if self.try_take() {
            return;
        }
        let mut guard = self.lock.lock().unwrap();
        self.blocking_waiters.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        while !self.try_take() {
            guard = self.freed.wait(guard).unwrap();
        }
        self.blocking_waiters.fetch_sub(1, Ordering::Relaxed);
    }
}

#[test]
fn a_freed_slot_wakes_the_blocked_thread() {
    loom::model(|| {
        let slots = Arc::new(Model::new(0)); // the one slot is held here
        let waiter = slots.clone();
        let t = thread::spawn(move || waiter.take_blocking());
        slots.release();
        t.join().unwrap();
        assert_eq!(slots.free.load(Ordering::SeqCst), 0, "the waiter holds the slot");
    });
}

/// Three threads and a condvar: bounded to two preemptions (as tokio bounds its own models),
/// which still reaches every interleaving of one free against one waiter's count and fence.
#[test]
fn two_blocked_threads_both_get_a_slot_from_two_frees() {
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(2);
    model.check(|| {
        let slots = Arc::new(Model::new(0));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = slots.clone();
                thread::spawn(move || s.take_blocking())
            })
            .collect();
        slots.release();
        slots.release();
        for t in waiters {
            t.join().unwrap();
        }
        assert_eq!(slots.free.load(Ordering::SeqCst), 0);
    });
}
