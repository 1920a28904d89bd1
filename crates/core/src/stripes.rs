//! Counters striped per thread, so threads counting at once do not fight over one cache line.
//!
//! A striped counter is [`STRIPES`] words, each on its own cache line; its value is the
//! (wrapping) sum of the words. The first [`OWNED`] threads that count anything each own one
//! stripe index (the same in every striped counter) until they exit, and add to their stripe
//! with a plain load and store: no locked instruction, since no other thread writes there.
//! Later threads share the remaining stripes and add with a relaxed read-modify-write. A
//! thread's stripe is a [`Slot`], which cannot leave its thread (it is neither `Send` nor
//! `Sync`), so only the owner ever makes the plain store.
//!
//! # Indices, and a forked child
//!
//! The owned indices come from one process-wide set of free bits, off the counting path: a
//! thread takes the lowest free bit on its first count and sets it again when it exits (a
//! release that the next owner's take acquires, so the next owner's first load sees the last
//! store of the one before). In a child forked from a multi-threaded parent, the forking thread
//! keeps its stripe; the stripes of the parent's other threads stay taken, since those threads
//! never exit in the child. They are never written again (what they hold still adds into every
//! sum, which stays exact), and the child's threads use the free stripes left, then the shared
//! ones. At worst a few stripes go unused: no count is lost or doubled.
//!
//! A stripe handle is used on its own thread, and cannot be sent to another (this example
//! builds this file on its own, as the crate-private `Slot` is out of a doc test's reach; the
//! one after it shows the same build compiles while the slot stays home):
//!
//! ```compile_fail,E0277
//! #[path = "../src/stripes.rs"]
//! mod stripes;
//! fn send<T: Send>(_: T) {}
//! send(stripes::Slot::current());
//! ```
//!
//! ```
//! # #[path = "../src/stripes.rs"]
//! # #[allow(dead_code)]
//! # mod stripes;
//! let counter = std::sync::atomic::AtomicU64::new(0);
//! stripes::Slot::current().bump(&counter);
//! assert_eq!(counter.into_inner(), 1);
//! ```

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stripes owned by one thread each.
const OWNED: usize = 8;
/// Stripes shared by the threads beyond the first [`OWNED`].
const SHARED: usize = 8;
/// Number of stripes a striped counter has.
pub(crate) const STRIPES: usize = OWNED + SHARED;
const _: () = assert!(STRIPES.is_power_of_two() && OWNED <= u64::BITS as usize);
/// Marks a slot whose stripe is shared (added to with a read-modify-write).
const SHARED_BIT: usize = 1 << 8;
const UNSET: usize = usize::MAX;

/// Owned stripe indices not taken by a live thread, one bit each.
static FREE: AtomicU64 = AtomicU64::new((1 << OWNED) - 1);

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
            FREE.give_back(slot);
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
        Ok(()) => FREE.take_lowest().unwrap_or_else(shared),
        Err(_) => shared(),
    };
    SLOT.set(slot);
    slot
}

/// A 64-bit atomic word as the stripes use it, as a counter's stripe or as the set of free
/// indices: std's `AtomicU64`, or loom's in the model test.
pub(crate) trait Word {
    /// Adds `n` (wrapping) as the word's only writer, a plain load and store; the new value.
    fn add_owned(&self, n: u64) -> u64;
    /// Adds `n` (wrapping) beside other writers, a relaxed read-modify-write; the new value.
    fn add_shared(&self, n: u64) -> u64;
    /// Clears the lowest set bit and returns its index, if any bit is set.
    fn take_lowest(&self) -> Option<usize>;
    /// Sets bit `index` again, publishing the writes made while it was taken.
    fn give_back(&self, index: usize);
}

macro_rules! word {
    ($atomic:ty) => {
        impl Word for $atomic {
            #[inline]
            fn add_owned(&self, n: u64) -> u64 {
                let new = self.load(Ordering::Relaxed).wrapping_add(n);
                self.store(new, Ordering::Relaxed);
                new
            }

            #[inline]
            fn add_shared(&self, n: u64) -> u64 {
                self.fetch_add(n, Ordering::Relaxed).wrapping_add(n)
            }

            fn take_lowest(&self) -> Option<usize> {
                let mut free = self.load(Ordering::Acquire);
                while free != 0 {
                    let bit = free & free.wrapping_neg();
                    match self.compare_exchange_weak(free, free & !bit, Ordering::Acquire, Ordering::Acquire)
                    {
                        Ok(_) => return Some(bit.trailing_zeros() as usize),
                        Err(seen) => free = seen,
                    }
                }
                None
            }

            fn give_back(&self, index: usize) {
                self.fetch_or(1 << index, Ordering::Release);
            }
        }
    };
}

word!(AtomicU64);
#[cfg(loom)]
word!(loom::sync::atomic::AtomicU64);

/// The calling thread's stripe. Neither `Send` nor `Sync`: only the thread it was made on can
/// use it, so an owned stripe has one writer.
#[derive(Debug)]
pub(crate) struct Slot {
    raw: usize,
    _this_thread: PhantomData<*const ()>,
}

/// Compiles only while [`Slot`] is not `Send`: with a `Send` slot, both impls below apply and
/// the call is ambiguous.
const _SLOT_IS_NOT_SEND: fn() = || {
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    <Slot as AmbiguousIfSend<_>>::check();
};

impl Slot {
    /// The calling thread's stripe, claimed on first use.
    #[inline]
    pub(crate) fn current() -> Self {
        let raw = SLOT.get();
        Self { raw: if raw == UNSET { claim() } else { raw }, _this_thread: PhantomData }
    }

    /// The stripe's index, below [`STRIPES`].
    #[inline]
    pub(crate) fn index(&self) -> usize {
        self.raw & (STRIPES - 1)
    }

    /// Adds `n` (wrapping) to `word`, which must be on this slot's stripe; the stripe's new
    /// value.
    #[inline]
    pub(crate) fn add<W: Word>(&self, word: &W, n: u64) -> u64 {
        if self.raw & SHARED_BIT == 0 { word.add_owned(n) } else { word.add_shared(n) }
    }

    /// Adds one to `counter`, which must be on this slot's stripe.
    #[inline]
    pub(crate) fn bump(&self, counter: &AtomicU64) {
        self.add(counter, 1);
    }
}

/// One cache line (two, for adjacent-line prefetchers).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Line(AtomicU64);

/// A 64-bit count on [`STRIPES`] padded words: adding touches the calling thread's stripe
/// only, reading sums them all.
#[derive(Debug, Default)]
pub(crate) struct Stripes {
    lines: [Line; STRIPES],
}

impl Stripes {
    /// Adds `n` (wrapping) on the calling thread's stripe; that stripe's new value.
    #[inline]
    pub(crate) fn add(&self, n: u64) -> u64 {
        let slot = Slot::current();
        slot.add(&self.lines[slot.index()].0, n)
    }

    /// The wrapping sum over all stripes: exact once no add runs.
    pub(crate) fn sum(&self) -> u64 {
        self.lines.iter().fold(0, |sum, l| sum.wrapping_add(l.0.load(Ordering::Relaxed)))
    }
}

/// A count that goes up and down, on the calling thread's stripe: a stripe alone means
/// nothing (a count may go up on one thread and down on another), the wrapping sum of all
/// stripes is exact.
#[derive(Debug, Default)]
pub(crate) struct Gauge(Stripes);

impl Gauge {
    /// Adds one.
    #[inline]
    pub(crate) fn up(&self) {
        self.0.add(1);
    }

    /// Takes one away.
    #[inline]
    pub(crate) fn down(&self) {
        self.0.add(u64::MAX);
    }

    /// The sum over all stripes; 0 while a take-away is seen before the add it undoes.
    pub(crate) fn get(&self) -> usize {
        usize::try_from(self.0.sum() as i64).unwrap_or(0)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn owned_stripes_are_taken_once_and_given_back() {
        let free = AtomicU64::new(0b101);
        assert_eq!(free.take_lowest(), Some(0));
        assert_eq!(free.take_lowest(), Some(2));
        assert_eq!(free.take_lowest(), None);
        free.give_back(2);
        assert_eq!(free.take_lowest(), Some(2));
    }

    #[test]
    fn adds_wrap_and_return_the_new_value() {
        let w = AtomicU64::new(u64::MAX);
        assert_eq!(w.add_owned(2), 1);
        assert_eq!(w.add_shared(u64::MAX), 0);
    }

    #[test]
    fn a_thread_keeps_its_slot() {
        let slots = std::thread::scope(|s| {
            s.spawn(|| {
                let first = Slot::current().raw;
                (first, Slot::current().raw)
            })
            .join()
        });
        let (first, second) = slots.unwrap_or_else(|_| panic!("counting thread panicked"));
        assert_eq!(first, second);
        assert_ne!(first, UNSET);
    }

    #[test]
    fn stripes_sum_across_more_threads_than_owned_stripes() {
        let s = Stripes::default();
        std::thread::scope(|scope| {
            for _ in 0..(STRIPES + 4) {
                scope.spawn(|| (0..1000).for_each(|_| _ = s.add(1)));
            }
        });
        assert_eq!(s.sum(), (STRIPES as u64 + 4) * 1000);
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
        std::thread::scope(|s| {
            s.spawn(|| (g.down(), g.down()));
        });
        assert_eq!(g.get(), 0, "a gauge read below zero reads zero");
    }
}

/// The index hand-over under loom: a stripe passed from an exited thread to the next owner
/// loses no count. Run with
/// `RUSTFLAGS="--cfg loom" cargo test -p elf-resilience-core --lib --release stripes::model`.
#[cfg(all(test, loom))]
mod model {
    use super::Word;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicU64, Ordering};

    /// One owned index and one shared stripe, as a process with `OWNED = 1`.
    struct Process {
        free: AtomicU64,
        stripes: [AtomicU64; 2],
    }

    /// A thread's life as a counter: take the owned index if free (else the shared stripe),
    /// count once, give the index back on exit.
    fn count_once(p: &Process) {
        match p.free.take_lowest() {
            Some(i) => {
                p.stripes[i].add_owned(1);
                p.free.give_back(i);
            }
            None => _ = p.stripes[1].add_shared(1),
        }
    }

    fn sum(p: &Process) -> u64 {
        p.stripes.iter().map(|s| s.load(Ordering::Relaxed)).sum()
    }

    #[test]
    fn a_stripe_handed_to_the_next_owner_loses_no_count() {
        loom::model(|| {
            let p = Arc::new(Process {
                free: AtomicU64::new(1),
                stripes: [AtomicU64::new(0), AtomicU64::new(0)],
            });
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let p = p.clone();
                    loom::thread::spawn(move || count_once(&p))
                })
                .collect();
            assert!(sum(&p) <= 2, "a reader never sees more than was counted");
            for t in threads {
                t.join().unwrap();
            }
            count_once(&p);
            assert_eq!(sum(&p), 3);
        });
    }
}
