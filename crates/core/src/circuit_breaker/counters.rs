//! Call counters, striped per thread.
//!
//! The first [`OWNED`] threads that count anything each own one stripe (the same index in
//! every breaker) until they exit, and add to it with a plain load and store: no locked
//! instruction, since no other thread writes there. Later threads share the remaining stripes
//! and add with `fetch_add`. Readers sum all stripes.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stripes owned by one thread each.
const OWNED: usize = 8;
/// Stripes shared by the threads beyond the first [`OWNED`].
const SHARED: usize = 8;
/// Number of counter stripes per breaker.
const STRIPES: usize = OWNED + SHARED;
const _: () = assert!(STRIPES.is_power_of_two() && OWNED <= usize::BITS as usize);
/// Marks a slot whose stripe is shared (added to with `fetch_add`).
const SHARED_BIT: usize = 1 << 8;
const UNSET: usize = usize::MAX;

/// What a counter slot counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    Success = 0,
    Failure = 1,
    Rejected = 2,
    Ignored = 3,
    Slow = 4,
}

/// One cache line (two, for adjacent-line prefetchers) of counters.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe([AtomicU64; 5]);

/// Call counters spread over stripes, so threads do not fight over one cache line.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    stripes: [Stripe; STRIPES],
}

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

#[inline]
fn slot() -> usize {
    let slot = SLOT.get();
    if slot == UNSET { claim() } else { slot }
}

impl Counters {
    /// Adds one to `what` on this thread's stripe: a plain load and store on an owned stripe,
    /// one relaxed RMW on a shared one.
    #[inline]
    pub(crate) fn bump(&self, what: Count) {
        let slot = slot();
        let counter = &self.stripes[slot & (STRIPES - 1)].0[what as usize];
        if slot & SHARED_BIT == 0 {
            counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        } else {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The sum over all stripes.
    pub(crate) fn get(&self, what: Count) -> u64 {
        self.stripes.iter().map(|s| s.0[what as usize].load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sum_across_threads() {
        let c = Counters::default();
        std::thread::scope(|s| {
            for _ in 0..(OWNED + 4) {
                s.spawn(|| (0..1000).for_each(|_| c.bump(Count::Success)));
            }
        });
        assert_eq!(c.get(Count::Success), (OWNED as u64 + 4) * 1000);
        assert_eq!(c.get(Count::Failure), 0);
    }

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
        let c = Counters::default();
        let slots = std::thread::scope(|s| {
            s.spawn(|| {
                c.bump(Count::Slow);
                let first = SLOT.get();
                c.bump(Count::Slow);
                (first, SLOT.get())
            })
            .join()
        });
        let (first, second) = slots.unwrap_or_else(|_| panic!("counting thread panicked"));
        assert_eq!(first, second);
        assert_ne!(first, UNSET);
        assert_eq!(c.get(Count::Slow), 2);
    }
}
