//! The tower layer for [`RateLimiter`]: requests beyond the rate are refused at once.

use super::{RateLimited, RateLimiter};
use crate::clock::{Clock, SharedClock};
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Refuses requests beyond a shared [`RateLimiter`]'s rate with
/// [`RateLimitServiceError::Limited`], which carries the retry-after (an HTTP 429 in an axum
/// stack). Every service made by this layer draws from the same limiter.
///
/// ```
/// use elf_resilience_core::{ManualClock, RateLimitLayer, RateLimitServiceError, RateLimiter};
/// use std::num::NonZeroU32;
/// use std::sync::Arc;
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let clock = ManualClock::new();
/// let limiter = RateLimiter::builder()
///     .per_second(NonZeroU32::new(1).unwrap())
///     .clock(clock.shared())
///     .build()
///     .unwrap();
/// let layer = RateLimitLayer::new(Arc::new(limiter));
/// let echo = service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) });
/// assert_eq!(layer.layer(echo).oneshot(7).await.unwrap(), 7);
/// let err = layer.layer(echo).oneshot(8).await.unwrap_err();
/// assert!(matches!(err, RateLimitServiceError::Limited(_)));
/// # }
/// ```
#[derive(Debug)]
pub struct RateLimitLayer<C: Clock = SharedClock> {
    limiter: Arc<RateLimiter<C>>,
}

impl<C: Clock> Clone for RateLimitLayer<C> {
    fn clone(&self) -> Self {
        Self { limiter: Arc::clone(&self.limiter) }
    }
}

impl<C: Clock> RateLimitLayer<C> {
    /// A layer drawing from `limiter`.
    pub fn new(limiter: Arc<RateLimiter<C>>) -> Self {
        Self { limiter }
    }
}

impl<S, C: Clock> Layer<S> for RateLimitLayer<C> {
    type Service = RateLimitService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService { inner, limiter: Arc::clone(&self.limiter) }
    }
}

/// A service that refuses requests beyond its limiter's rate. Made by [`RateLimitLayer`].
#[derive(Debug)]
pub struct RateLimitService<S, C: Clock = SharedClock> {
    inner: S,
    limiter: Arc<RateLimiter<C>>,
}

impl<S: Clone, C: Clock> Clone for RateLimitService<S, C> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), limiter: Arc::clone(&self.limiter) }
    }
}

/// The error of a [`RateLimitService`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimitServiceError<E> {
    /// The request was refused; it was not passed on.
    Limited(RateLimited),
    /// The wrapped service failed.
    Inner(E),
}

impl<E> RateLimitServiceError<E> {
    /// The wrapped service's error, if it failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Inner(e) => Some(e),
            Self::Limited(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for RateLimitServiceError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Limited(l) => l.fmt(f),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RateLimitServiceError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Limited(l) => Some(l),
            Self::Inner(e) => e.source(),
        }
    }
}

impl<S, C, Req> Service<Req> for RateLimitService<S, C>
where
    S: Service<Req>,
    C: Clock,
{
    type Response = S::Response;
    type Error = RateLimitServiceError<S::Error>;
    type Future = RateLimitFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(RateLimitServiceError::Inner)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.limiter.check() {
            Ok(()) => RateLimitFuture::Called { fut: self.inner.call(req) },
            Err(limited) => RateLimitFuture::Refused { limited: Some(limited) },
        }
    }
}

pin_project! {
    /// The response future of [`RateLimitService`].
    #[derive(Debug)]
    #[project = RateLimitFutureProj]
    pub enum RateLimitFuture<F> {
        /// The request was passed on.
        Called { #[pin] fut: F },
        /// The request was refused.
        Refused { limited: Option<RateLimited> },
    }
}

impl<F, T, E> Future for RateLimitFuture<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, RateLimitServiceError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            RateLimitFutureProj::Called { fut } => fut.poll(cx).map_err(RateLimitServiceError::Inner),
            RateLimitFutureProj::Refused { limited } => {
                let limited = limited.take().expect("RateLimitFuture polled after completion");
                Poll::Ready(Err(RateLimitServiceError::Limited(limited)))
            }
        }
    }
}
