//! A taken slot, given back on drop.

use super::Shared;
use super::slots::Slots;
use std::fmt;
use std::sync::Arc;

/// One of a [`Bulkhead`](crate::Bulkhead)'s slots. Dropping it (also while unwinding from a
/// panic) frees the slot.
#[must_use = "the slot is freed as soon as the permit is dropped"]
pub struct BulkheadPermit {
    shared: Arc<Shared>,
}

impl BulkheadPermit {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl fmt::Debug for BulkheadPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadPermit").field("bulkhead", &self.shared.name).finish()
    }
}

impl Drop for BulkheadPermit {
    fn drop(&mut self) {
        self.shared.slots.release();
    }
}

/// A slot held by borrowing its bulkhead: no reference count to take or give back. Used where
/// the bulkhead outlives the call (a pipeline call, a bulkhead's own `call`).
#[must_use = "the slot is freed as soon as it is dropped"]
pub(crate) struct BorrowedSlot<'a> {
    slots: &'a Slots,
}

impl<'a> BorrowedSlot<'a> {
    pub(super) fn new(slots: &'a Slots) -> Self {
        Self { slots }
    }
}

impl Drop for BorrowedSlot<'_> {
    #[inline]
    fn drop(&mut self) {
        self.slots.release();
    }
}
