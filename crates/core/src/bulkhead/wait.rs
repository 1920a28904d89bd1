//! Async slot waiting on tokio's timer.

use super::{Bulkhead, BulkheadError, BulkheadPermit};
use std::future::Future;
use std::sync::Arc;

impl Bulkhead {
    /// Takes a slot, waiting on tokio's timer up to the configured wait.
    pub async fn acquire_async(&self) -> Result<BulkheadPermit, BulkheadError> {
        let s = &self.shared;
        if s.slots.take_async(s.max_wait).await {
            return Ok(BulkheadPermit::new(Arc::clone(s)));
        }
        Err(self.rejection(s.max_wait))
    }

    /// Runs `fut` in a slot (waiting as [`acquire_async`](Self::acquire_async) does), or refuses
    /// it without polling it.
    pub async fn call_async<T, E, F>(&self, fut: F) -> Result<T, BulkheadError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let _permit = self.acquire_async().await.map_err(BulkheadError::widen)?;
        fut.await.map_err(BulkheadError::Inner)
    }
}
