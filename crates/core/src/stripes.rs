//! Counter stripes, one per thread for the first threads.
//!
//! The first [`OWNED`] threads that count anything each own one stripe index (the same in
//! every striped counter) until they exit, and add to their stripe with a plain load and
//! store: no locked instruction, since no other thread writes there. Later threads share the
//! remaining stripes and add with a relaxed read-modify-write. Readers sum all stripes.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stripes owned by one thread each.
const OWNED: usize = 8;
/// Stripes shared by the threads beyond the first [`OWNED`].
const SHARED: usize = 8;
/// Number of stripes a striped counter has.
pub(crate) const STRIPES: usize = OWNED + SHARED;
const _: () = assert!(STRIPES.is_power_of_two() && OWNED <= usize::BITS as usize);
/// Marks a slot whose stripe is shared (added to with a read-modify-write).
const SHARED_BIT: usize = 1 << 8;
const UNSET: usize = usize::MAX;

/// Owned stripe indices not taken by a live thread, one bit each.
static FREE: AtomicUsize = AtomicUsize::new((1 << OWNED) - 1);

thread_local! {
    /// This thread's stripe index, with [`SHARED_BIT`] if the stripe is shared.
    static SLOT: Cell<usize> = const { Cell::new(UNSET) };
    /// Gives an owned stripe back when the thread exits.
    static RELEASE: Release = const { Release };
}

struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        let slot = SLOT.replace(SHARED_BIT | OWNED);
        if slot & SHARED_BIT == 0 {
            FREE.fetch_or(1 << slot, Ordering::Release);
        }
    }
}

/// Takes a free owned stripe, or picks a shared one.
#[cold]
fn claim() -> usize {
    static NEXT_SHARED: AtomicUsize = AtomicUsize::new(0);
    let shared = || SHARED_BIT | (OWNED + NEXT_SHARED.fetch_add(1, Ordering::Relaxed) % SHARED);
    // Registering the release fails while the thread's locals are being destroyed.
    let slot = match RELEASE.try_with(|_| ()) {
        Ok(()) => take_free(&FREE).unwrap_or_else(shared),
        Err(_) => shared(),
    };
    SLOT.set(slot);
    slot
}

/// Takes the lowest set bit of `free`.
fn take_free(free_bits: &AtomicUsize) -> Option<usize> {
    let mut free = free_bits.load(Ordering::Acquire);
    while free != 0 {
        let slot = free.trailing_zeros() as usize;
        match free_bits.compare_exchange_weak(free, free & !(1 << slot), Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => return Some(slot),
            Err(seen) => free = seen,
        }
    }
    None
}

/// The calling thread's stripe.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot(usize);

impl Slot {
    /// The calling thread's stripe, claimed on first use.
    #[inline]
    pub(crate) fn current() -> Self {
        let slot = SLOT.get();
        Self(if slot == UNSET { claim() } else { slot })
    }

    /// The stripe's index, below [`STRIPES`].
    #[inline]
    pub(crate) fn index(self) -> usize {
        self.0 & (STRIPES - 1)
    }

    #[inline]
    fn owned(self) -> bool {
        self.0 & SHARED_BIT == 0
    }

    /// Adds one to `counter`, which must be on this slot's stripe.
    #[inline]
    pub(crate) fn bump(self, counter: &AtomicU64) {
        if self.owned() {
            counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        } else {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds `n` to `counter` (wrapping, so sums of stripes may take away too), which must be
    /// on this slot's stripe.
    #[inline]
    pub(crate) fn add(self, counter: &AtomicUsize, n: usize) {
        if self.owned() {
            counter.store(counter.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
        } else {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// A count that goes up and down, on the calling thread's stripe: a stripe alone means
/// nothing (a count may go up on one thread and down on another), the wrapping sum of all
/// stripes is exact.
#[derive(Debug, Default)]
pub(crate) struct Gauge {
    stripes: [Line; STRIPES],
}

/// One cache line (two, for adjacent-line prefetchers).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Line(AtomicUsize);

impl Gauge {
    /// Adds one.
    #[inline]
    pub(crate) fn up(&self) {
        let slot = Slot::current();
        slot.add(&self.stripes[slot.index()].0, 1);
    }

    /// Takes one away.
    #[inline]
    pub(crate) fn down(&self) {
        let slot = Slot::current();
        slot.add(&self.stripes[slot.index()].0, usize::MAX);
    }

    /// The sum over all stripes.
    pub(crate) fn get(&self) -> usize {
        self.stripes.iter().fold(0, |sum, s| sum.wrapping_add(s.0.load(Ordering::Relaxed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_stripes_are_taken_once_and_given_back() {
        let free = AtomicUsize::new(0b101);
        assert_eq!(take_free(&free), Some(0));
        assert_eq!(take_free(&free), Some(2));
        assert_eq!(take_free(&free), None);
        free.fetch_or(1 << 2, Ordering::Release);
        assert_eq!(take_free(&free), Some(2));
    }

    #[test]
    fn a_thread_keeps_its_slot() {
        let slots = std::thread::scope(|s| {
            s.spawn(|| {
                let first = Slot::current().0;
                (first, Slot::current().0)
            })
            .join()
        });
        let (first, second) = slots.unwrap_or_else(|_| panic!("counting thread panicked"));
        assert_eq!(first, second);
        assert_ne!(first, UNSET);
    }

    #[test]
    fn a_gauge_is_exact_when_counts_go_up_and_down_on_different_threads() {
        let g = Gauge::default();
        let threads = OWNED + 4;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|s| {
            for _ in 0..threads {
                let tx = tx.clone();
                let g = &g;
                s.spawn(move || {
                    for _ in 0..1000 {
                        g.up();
                        tx.send(()).unwrap_or_else(|_| panic!("receiver gone"));
                    }
                });
            }
            drop(tx);
            // Every count goes up on a producer thread and down on this one.
            let mut down = 0;
            for () in rx {
                g.down();
                down += 1;
            }
            assert_eq!(down, threads * 1000);
        });
        assert_eq!(g.get(), 0);
        g.up();
        g.up();
        std::thread::scope(|s| {
            s.spawn(|| g.down());
        });
        assert_eq!(g.get(), 1);
    }
}
