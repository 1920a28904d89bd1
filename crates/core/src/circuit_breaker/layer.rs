//! The tower layer for [`CircuitBreaker`].

use super::{CircuitBreaker, CircuitBreakerError, CircuitOpen, OwnedCircuitPermit};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower_layer::Layer;
use tower_service::Service;

/// Guards a service with a shared [`CircuitBreaker`]: while it is open, requests are refused
/// with [`CircuitBreakerError::Open`] without reaching the service; otherwise each response
/// (`Ok` a success, `Err` as the breaker's error predicate says) is recorded. A response future
/// dropped before it completes counts as a failure.
///
/// The response future is a plain enum holding the inner future and the permit: no boxing, no
/// allocation per request; the permit holds one reference to the breaker (see
/// [`OwnedCircuitPermit`]).
///
/// ```
/// use elf_resilience_core::{CircuitBreaker, CircuitBreakerLayer};
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let breaker = CircuitBreaker::builder().name("search").failure_threshold(1).build().unwrap();
/// let flaky = service_fn(|q: &'static str| async move {
///     if q.is_empty() { Err("empty query") } else { Ok(q.len()) }
/// });
/// let svc = CircuitBreakerLayer::new(breaker).layer(flaky);
/// assert_eq!(svc.clone().oneshot("rust").await.unwrap(), 4);
/// assert!(svc.clone().oneshot("").await.unwrap_err().is_inner());
/// assert!(svc.oneshot("rust").await.unwrap_err().is_open());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer {
    breaker: CircuitBreaker,
}

impl CircuitBreakerLayer {
    /// A layer sharing `breaker` among every service it makes.
    pub fn new(breaker: CircuitBreaker) -> Self {
        Self { breaker }
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreakerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService { inner, breaker: self.breaker.clone() }
    }
}

/// A service guarded by a circuit breaker. Made by [`CircuitBreakerLayer`].
#[derive(Debug, Clone)]
pub struct CircuitBreakerService<S> {
    inner: S,
    breaker: CircuitBreaker,
}

impl<S> CircuitBreakerService<S> {
    /// The breaker guarding this service.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }
}

impl<S, Req> Service<Req> for CircuitBreakerService<S>
where
    S: Service<Req>,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = CircuitBreakerError<S::Error>;
    type Future = CircuitBreakerFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(CircuitBreakerError::Inner)
    }

    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        match self.breaker.try_acquire_owned() {
            Ok(permit) => CircuitBreakerFuture::Admitted { fut: self.inner.call(req), permit: Some(permit) },
            Err(open) => CircuitBreakerFuture::Rejected { open: Some(open) },
        }
    }
}

pin_project! {
    /// The response future of [`CircuitBreakerService`].
    #[derive(Debug)]
    #[project = CircuitBreakerFutureProj]
    pub enum CircuitBreakerFuture<F> {
        /// The request reached the service; the permit records its outcome.
        Admitted { #[pin] fut: F, permit: Option<OwnedCircuitPermit> },
        /// The breaker refused the request.
        Rejected { open: Option<CircuitOpen> },
    }
}

impl<F, T, E> Future for CircuitBreakerFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: 'static,
{
    type Output = Result<T, CircuitBreakerError<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CircuitBreakerFutureProj::Admitted { fut, permit } => {
                let out = ready!(fut.poll(cx));
                if let Some(permit) = permit.take() {
                    permit.record(&out);
                }
                Poll::Ready(out.map_err(CircuitBreakerError::Inner))
            }
            CircuitBreakerFutureProj::Rejected { open } => {
                let open = open.take().expect("CircuitBreakerFuture polled after completion");
                Poll::Ready(Err(CircuitBreakerError::Open(open)))
            }
        }
    }
}
