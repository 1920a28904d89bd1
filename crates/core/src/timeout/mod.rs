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
pub use layer::{TimeoutLayer, TimeoutService};

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

    /// Runs `fut`, dropping it if it is not done within the limit, which runs from this call.
    ///
    /// The deadline is read from tokio's clock here; the timer is made (boxed, so the returned
    /// future stays small) only if `fut` is not done at its first poll: a call answered at
    /// once allocates nothing and touches no timer.
    #[cfg(feature = "tokio")]
    pub fn call_async<T, E, F>(&self, fut: F) -> TimeoutFuture<F>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        let deadline = tokio::time::Instant::now() + self.duration;
        TimeoutFuture { inner: fut, deadline, duration: self.duration, timer: None }
    }
}

#[cfg(feature = "tokio")]
pin_project_lite::pin_project! {
    /// The future of [`Timeout::call_async`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        deadline: tokio::time::Instant,
        duration: std::time::Duration,
        timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    }
}

#[cfg(feature = "tokio")]
impl<T, E, F: std::future::Future<Output = Result<T, E>>> std::future::Future for TimeoutFuture<F> {
    type Output = Result<T, TimeoutError<E>>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let this = self.project();
        if let Poll::Ready(done) = this.inner.poll(cx) {
            return Poll::Ready(done.map_err(TimeoutError::Inner));
        }
        let deadline = *this.deadline;
        let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(elapsed(*this.duration))),
            Poll::Pending => Poll::Pending,
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
