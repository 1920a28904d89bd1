//! The denial count: one slot per thread, so a denial is a plain load and store, not a locked
//! read-modify-write that would stall the caller and bounce one cache line between cores.
//!
//! Each thread that denies takes a process-wide slot index the first time and gives it back
//! when it exits. Slot `i` of every limiter is written only by the thread holding index `i`, so
//! a load followed by a store loses nothing; the index registry's mutex orders a finished
//! thread's last store before the next holder's first load. Threads past the limiter's slots
//! (or denying while their thread-local storage is torn down) add to a shared atomic instead.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// How many denials one thread counts between two updates of `elf_rate_limited_total`.
pub const RATE_LIMIT_PUBLISH_EVERY: u64 = 1024;

const UNCLAIMED: usize = usize::MAX;
const RELEASED: usize = usize::MAX - 1;

thread_local! {
    /// This thread's slot index, or `UNCLAIMED` / `RELEASED`.
    static INDEX: Cell<usize> = const { Cell::new(UNCLAIMED) };
    /// Gives the index back when the thread exits.
    static GUARD: IndexGuard = const { IndexGuard };
}

/// Indices of exited threads, handed out again before new ones.
static FREE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static NEXT: AtomicUsize = AtomicUsize::new(0);

struct IndexGuard;

impl Drop for IndexGuard {
    fn drop(&mut self) {
        let index = INDEX.replace(RELEASED);
        if index < RELEASED {
            FREE.lock().unwrap_or_else(PoisonError::into_inner).push(index);
        }
    }
}

/// Takes an index for this thread, or marks it as one that uses the shared counter.
#[cold]
fn claim() -> usize {
    let registered = GUARD.try_with(|_| ()).is_ok();
    let index = if registered {
        let reused = FREE.lock().unwrap_or_else(PoisonError::into_inner).pop();
        reused.unwrap_or_else(|| NEXT.fetch_add(1, Ordering::Relaxed))
    } else {
        RELEASED
    };
    INDEX.set(index);
    index
}

/// Slots per limiter: twice the parallelism, from 8 to 256.
fn slot_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(4, usize::from);
        cpus.saturating_mul(2).clamp(8, 256)
    })
}

/// Denials counted per thread, and how many of them the metrics counter has been told about.
#[derive(Debug)]
pub(crate) struct Denials {
    slots: Box<[AtomicU64]>,
    shared: AtomicU64,
    published: AtomicU64,
}

impl Denials {
    pub(crate) fn new() -> Self {
        Self {
            slots: (0..slot_count()).map(|_| AtomicU64::new(0)).collect(),
            shared: AtomicU64::new(0),
            published: AtomicU64::new(0),
        }
    }

    /// Counts one denial; `true` when the caller's count reaches a multiple of
    /// [`RATE_LIMIT_PUBLISH_EVERY`].
    #[inline]
    pub(crate) fn add_one(&self) -> bool {
        let n = match self.slots.get(INDEX.get()) {
            Some(slot) => {
                let n = slot.load(Ordering::Relaxed) + 1;
                slot.store(n, Ordering::Relaxed);
                n
            }
            None => self.add_one_slow(),
        };
        n.is_multiple_of(RATE_LIMIT_PUBLISH_EVERY)
    }

    #[cold]
    fn add_one_slow(&self) -> u64 {
        if INDEX.get() == UNCLAIMED && claim() < self.slots.len() {
            return self.add_one_owned();
        }
        self.shared.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn add_one_owned(&self) -> u64 {
        let slot = &self.slots[INDEX.get()];
        let n = slot.load(Ordering::Relaxed) + 1;
        slot.store(n, Ordering::Relaxed);
        n
    }

    /// Every denial counted so far (exact once the denying calls have returned).
    pub(crate) fn total(&self) -> u64 {
        let owned: u64 = self.slots.iter().map(|s| s.load(Ordering::Relaxed)).sum();
        owned + self.shared.load(Ordering::Relaxed)
    }

    /// Denials not yet published, marked as published now. Concurrent callers split them:
    /// each denial is handed out once.
    pub(crate) fn take_unpublished(&self) -> u64 {
        let total = self.total();
        let before = self.published.fetch_max(total, Ordering::Relaxed);
        total.saturating_sub(before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Barrier, MutexGuard};

    /// These tests claim and free thread indices: one at a time, so reuse is predictable.
    fn serial() -> MutexGuard<'static, ()> {
        static SERIAL: Mutex<()> = Mutex::new(());
        SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[test]
    fn counts_on_this_thread_and_on_others() {
        let _serial = serial();
        let d = Denials::new();
        for _ in 0..5 {
            d.add_one();
        }
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        d.add_one();
                    }
                });
            }
        });
        assert_eq!(d.total(), 4005);
        assert_eq!(d.shared.load(Ordering::Relaxed), 0);
        assert_eq!(d.take_unpublished(), 4005);
        assert_eq!(d.take_unpublished(), 0);
    }

    #[test]
    fn threads_beyond_the_slots_use_the_shared_counter() {
        let _serial = serial();
        let d = Denials::new();
        let threads = d.slots.len() + 8;
        let started = Barrier::new(threads);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    started.wait();
                    for _ in 0..10 {
                        d.add_one();
                    }
                    started.wait(); // hold the index until every thread has counted
                });
            }
        });
        assert_eq!(d.total(), 10 * threads as u64);
        assert!(d.shared.load(Ordering::Relaxed) >= 80);
    }

    #[test]
    fn the_publish_signal_comes_every_1024_denials_of_a_thread() {
        let _serial = serial();
        let d = Denials::new();
        let signals: Vec<u64> = (1..=3000).filter(|_| d.add_one()).collect();
        assert_eq!(signals, [1024, 2048]);
    }

    #[test]
    fn an_exited_thread_gives_its_index_back() {
        let _serial = serial();
        let index = || {
            std::thread::spawn(|| {
                Denials::new().add_one();
                INDEX.get()
            })
            .join()
            .unwrap()
        };
        let first = index();
        assert!(first < slot_count());
        assert_eq!(index(), first);
    }
}
