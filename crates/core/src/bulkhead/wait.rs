//! Async slot waiting on tokio's timer.

use super::{BorrowedSlot, Bulkhead, BulkheadError, BulkheadPermit};
use std::future::Future;
use std::sync::Arc;

impl Bulkhead {
    /// Takes a slot, waiting on tokio's timer up to the configured wait.
    pub async fn acquire_async(&self) -> Result<BulkheadPermit, BulkheadError> {
        let slot = self.acquire_borrowed_async().await?;
        std::mem::forget(slot);
        Ok(BulkheadPermit::new(Arc::clone(&self.shared)))
    }

    /// [`acquire_async`](Self::acquire_async), held by borrowing this bulkhead.
    pub(crate) async fn acquire_borrowed_async(&self) -> Result<BorrowedSlot<'_>, BulkheadError> {
        let s = &self.shared;
        // The wait (a queue entry and a timer) is boxed, so a caller's future holds only a
        // pointer for it: a free slot, or a shed, allocates nothing.
        if s.slots.try_take() || (!s.max_wait.is_zero() && Box::pin(s.slots.take_async(s.max_wait)).await) {
            return Ok(BorrowedSlot::new(&s.slots));
        }
        Err(self.rejection(s.max_wait))
    }

    /// Runs `fut` in a slot (waiting as [`acquire_async`](Self::acquire_async) does), or refuses
    /// it without polling it.
    pub async fn call_async<T, E, F>(&self, fut: F) -> Result<T, BulkheadError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let _slot = self.acquire_borrowed_async().await.map_err(BulkheadError::widen)?;
        fut.await.map_err(BulkheadError::Inner)
    }
}
