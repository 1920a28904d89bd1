//! A time limit for async calls, on tokio's timer.
//!
//! ```
//! use elf_resilience_core::{Timeout, TimeoutError};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let timeout = Timeout::new(Duration::from_secs(2));
//! let slow = async {
//!     tokio::time::sleep(Duration::from_secs(5)).await;
//!     Ok::<_, std::io::Error>("late")
//! };
//! let err = timeout.call_async(slow).await.unwrap_err();
//! assert!(matches!(err, TimeoutError::Elapsed(d) if d == Duration::from_secs(2)));
//! assert_eq!(err.to_string(), "call timed out after 2s");
//! # }
//! ```

mod error;
#[cfg(feature = "tower")]
mod layer;

pub use error::TimeoutError;
#[cfg(feature = "tower")]
pub use layer::*;

use std::time::Duration;

/// Drops a call that runs longer than a fixed duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout {
    duration: Duration,
}

impl Timeout {
    /// A limit of `duration`. A zero limit still lets a call that is ready at once finish.
    pub const fn new(duration: Duration) -> Self {
        Self { duration }
    }

    /// The limit.
    pub const fn duration(&self) -> Duration {
        self.duration
    }

    /// Runs `fut`, dropping it if it is not done within the limit.
    #[cfg(feature = "tokio")]
    pub async fn call_async<T, E, F>(&self, fut: F) -> Result<T, TimeoutError<E>>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        match tokio::time::timeout(self.duration, fut).await {
            Ok(done) => done.map_err(TimeoutError::Inner),
            Err(_) => Err(elapsed(self.duration)),
        }
    }
}

#[cfg(feature = "tokio")]
#[cold]
pub(crate) fn elapsed<E>(after: Duration) -> TimeoutError<E> {
    tracing::debug!(?after, "call timed out");
    metrics::counter!("elf_timeouts_total").increment(1);
    TimeoutError::Elapsed(after)
}
