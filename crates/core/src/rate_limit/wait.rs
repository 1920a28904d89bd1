//! Waiting for cells with tokio's timer.

use super::{RateLimitError, RateLimiter};
use crate::clock::Clock;
use std::num::NonZeroU32;
use std::time::Duration;

impl<C: Clock> RateLimiter<C> {
    /// Waits until one cell is free and takes it.
    ///
    /// Sleeps on tokio's timer, so the limiter's clock should follow tokio time
    /// ([`TokioClock`](crate::TokioClock)) when tokio's time is paused.
    pub async fn until_ready(&self) {
        while let Err(wait) = self.acquire(1) {
            tokio::time::sleep(Duration::from_nanos(wait)).await;
        }
    }

    /// Waits until `n` cells are free and takes them; fails at once if `n` exceeds the burst.
    pub async fn until_n_ready(&self, n: NonZeroU32) -> Result<(), RateLimitError> {
        self.fits(n)?;
        while let Err(wait) = self.acquire(n.get()) {
            tokio::time::sleep(Duration::from_nanos(wait)).await;
        }
        Ok(())
    }
}
