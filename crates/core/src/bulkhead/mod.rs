//! A bulkhead: at most N calls in flight at once; the rest wait a bounded time or are shed.
//!
//! The slots are the permits of one tokio [`Semaphore`](tokio::sync::Semaphore), shared by
//! every kind of caller, so blocking and async calls on one bulkhead never exceed the limit
//! together. Taking a free slot is the semaphore's `try_acquire` (one compare-and-swap, no
//! lock). An async call allowed to wait queues in the semaphore, first come first served, on
//! tokio's timer; a blocking call waits on a `Mutex` + `Condvar` that a freed slot notifies
//! while a thread is waiting, on the bulkhead's clock. A permit frees its slot on drop, so a
//! panicking call frees it too.
//!
//! A limit above [`Semaphore::MAX_PERMITS`](tokio::sync::Semaphore::MAX_PERMITS) (`usize::MAX
//! >> 3`) is capped there.
//!
//! ```
//! use elf_resilience_core::{Bulkhead, BulkheadError};
//! use std::num::NonZeroUsize;
//!
//! let bulkhead = Bulkhead::new(NonZeroUsize::new(1).unwrap());
//! let held = bulkhead.try_acquire()?;
//! let shed = bulkhead.call(|| Ok::<_, std::io::Error>(42)).unwrap_err();
//! assert!(matches!(shed, BulkheadError::Shed { max_concurrent: 1 }));
//! drop(held);
//! assert_eq!(bulkhead.call(|| Ok::<_, std::io::Error>(42)).unwrap(), 42);
//! # Ok::<(), BulkheadError>(())
//! ```

mod builder;
mod error;
#[cfg(feature = "tower")]
mod layer;
mod permit;
mod slots;
#[cfg(all(test, loom))]
mod slots_model;
#[cfg(feature = "tokio")]
mod wait;

pub use builder::BulkheadBuilder;
pub use error::BulkheadError;
#[cfg(feature = "tower")]
pub use layer::{BulkheadLayer, BulkheadService};
pub(crate) use permit::BorrowedSlot;
pub use permit::BulkheadPermit;

use crate::clock::SharedClock;
use slots::Slots;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

/// A concurrency limit shared by its clones.
#[derive(Debug, Clone)]
pub struct Bulkhead {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    slots: Slots,
    name: Arc<str>,
    max_wait: Duration,
    clock: SharedClock,
}

impl Bulkhead {
    /// A bulkhead admitting `max_concurrent` calls at once that sheds the rest without waiting.
    pub fn new(max_concurrent: NonZeroUsize) -> Self {
        Self::builder(max_concurrent).build()
    }

    /// A builder for a bulkhead admitting `max_concurrent` calls at once.
    pub fn builder(max_concurrent: NonZeroUsize) -> BulkheadBuilder {
        BulkheadBuilder::new(max_concurrent)
    }

    fn from_builder(b: BulkheadBuilder) -> Self {
        let slots = Slots::new(b.max_concurrent.get());
        let shared = Shared { slots, name: b.name, max_wait: b.max_wait, clock: b.clock };
        Self { shared: Arc::new(shared) }
    }

    /// The name used in logs and metrics.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The limit.
    pub fn max_concurrent(&self) -> usize {
        self.shared.slots.max()
    }

    /// How long a call may wait for a slot.
    pub fn max_wait(&self) -> Duration {
        self.shared.max_wait
    }

    /// Calls in flight right now.
    pub fn in_flight(&self) -> usize {
        self.shared.slots.in_flight()
    }

    /// Callers waiting for a slot right now.
    pub fn waiting(&self) -> usize {
        self.shared.slots.waiting()
    }

    /// Free slots right now.
    pub fn available(&self) -> usize {
        self.max_concurrent().saturating_sub(self.in_flight())
    }

    /// Takes a slot if one is free, never waiting.
    #[inline]
    pub fn try_acquire(&self) -> Result<BulkheadPermit, BulkheadError> {
        if self.shared.slots.try_take() {
            return Ok(BulkheadPermit::new(Arc::clone(&self.shared)));
        }
        Err(self.rejection(Duration::ZERO))
    }

    /// Takes a slot, blocking this thread up to the configured wait.
    pub fn acquire(&self) -> Result<BulkheadPermit, BulkheadError> {
        let slot = self.acquire_borrowed()?;
        std::mem::forget(slot);
        Ok(BulkheadPermit::new(Arc::clone(&self.shared)))
    }

    /// [`acquire`](Self::acquire), held by borrowing this bulkhead.
    fn acquire_borrowed(&self) -> Result<BorrowedSlot<'_>, BulkheadError> {
        let s = &self.shared;
        if s.slots.take_blocking(s.max_wait, s.clock.as_ref()) {
            return Ok(BorrowedSlot::new(&s.slots));
        }
        Err(self.rejection(s.max_wait))
    }

    /// Runs `f` in a slot (waiting as [`acquire`](Self::acquire) does), or refuses it.
    pub fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, BulkheadError<E>> {
        let _slot = self.acquire_borrowed().map_err(BulkheadError::widen)?;
        f().map_err(BulkheadError::Inner)
    }

    #[cold]
    fn rejection(&self, waited: Duration) -> BulkheadError {
        let max_concurrent = self.max_concurrent();
        let name = &*self.shared.name;
        tracing::debug!(bulkhead = name, max_concurrent, ?waited, "bulkhead full, call refused");
        // No dynamic label: building one allocates on every rejection even with no recorder.
        metrics::counter!("elf_bulkhead_rejected_total").increment(1);
        if waited.is_zero() {
            BulkheadError::Shed { max_concurrent }
        } else {
            BulkheadError::WaitTimedOut { max_concurrent, waited }
        }
    }
}
