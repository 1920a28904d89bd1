//! The tower layer for [`Timeout`].

use super::{Timeout, TimeoutError, elapsed};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;
use tower_layer::Layer;
use tower_service::Service;

/// Applies a [`Timeout`] to every request of the wrapped service.
///
/// ```
/// use elf_resilience_core::{TimeoutError, TimeoutLayer};
/// use std::time::Duration;
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let slow = service_fn(|_: ()| async {
///     tokio::time::sleep(Duration::from_secs(9)).await;
///     Ok::<_, std::io::Error>(())
/// });
/// let svc = TimeoutLayer::new(Duration::from_secs(1)).layer(slow);
/// let err = svc.oneshot(()).await.unwrap_err();
/// assert!(matches!(err, TimeoutError::Elapsed(_)));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    duration: Duration,
}

impl TimeoutLayer {
    /// A layer dropping requests that run longer than `duration`.
    pub const fn new(duration: Duration) -> Self {
        Self { duration }
    }
}

impl From<Timeout> for TimeoutLayer {
    fn from(t: Timeout) -> Self {
        Self::new(t.duration())
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeoutService { inner, duration: self.duration }
    }
}

/// A service whose requests are dropped after a fixed duration. Made by [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct TimeoutService<S> {
    inner: S,
    duration: Duration,
}

impl<S, Req> Service<Req> for TimeoutService<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = TimeoutError<S::Error>;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(TimeoutError::Inner)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let sleep = tokio::time::sleep(self.duration);
        TimeoutFuture { inner: self.inner.call(req), sleep, after: self.duration }
    }
}

pin_project! {
    /// The response future of [`TimeoutService`].
    #[derive(Debug)]
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Sleep,
        after: Duration,
    }
}

impl<F, T, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, TimeoutError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(done) = this.inner.poll(cx) {
            return Poll::Ready(done.map_err(TimeoutError::Inner));
        }
        this.sleep.poll(cx).map(|()| Err(elapsed(*this.after)))
    }
}
