//! The tower layer for [`Bulkhead`]: load shedding past a concurrency limit.

use super::{Bulkhead, BulkheadError, BulkheadPermit};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Sheds requests while a shared [`Bulkhead`] is full, with [`BulkheadError::Shed`]. A request
/// holds its slot until its response future completes or is dropped. The layer never waits for
/// a slot: the bulkhead's `max_wait` applies to `call` and `call_async` only.
///
/// ```
/// use elf_resilience_core::{Bulkhead, BulkheadLayer};
/// use std::num::NonZeroUsize;
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let bulkhead = Bulkhead::new(NonZeroUsize::new(1).unwrap());
/// let svc = BulkheadLayer::new(bulkhead.clone())
///     .layer(service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x * 2) }));
/// let held = bulkhead.try_acquire().unwrap();
/// assert!(svc.clone().oneshot(1).await.unwrap_err().is_shed());
/// drop(held);
/// assert_eq!(svc.oneshot(2).await.unwrap(), 4);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BulkheadLayer {
    bulkhead: Bulkhead,
}

impl BulkheadLayer {
    /// A layer sharing `bulkhead`'s slots.
    pub fn new(bulkhead: Bulkhead) -> Self {
        Self { bulkhead }
    }
}

impl<S> Layer<S> for BulkheadLayer {
    type Service = BulkheadService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BulkheadService { inner, bulkhead: self.bulkhead.clone() }
    }
}

/// A service that sheds requests while its bulkhead is full. Made by [`BulkheadLayer`].
#[derive(Debug, Clone)]
pub struct BulkheadService<S> {
    inner: S,
    bulkhead: Bulkhead,
}

impl<S, Req> Service<Req> for BulkheadService<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = BulkheadError<S::Error>;
    type Future = BulkheadFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(BulkheadError::Inner)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.bulkhead.try_acquire() {
            Ok(permit) => BulkheadFuture::Called { fut: self.inner.call(req), permit: Some(permit) },
            Err(shed) => BulkheadFuture::Shed { shed: Some(shed) },
        }
    }
}

pin_project! {
    /// The response future of [`BulkheadService`]; it holds the request's slot.
    #[derive(Debug)]
    #[project = BulkheadFutureProj]
    pub enum BulkheadFuture<F> {
        /// The request was passed on and holds a slot.
        Called { #[pin] fut: F, permit: Option<BulkheadPermit> },
        /// The request was shed.
        Shed { shed: Option<BulkheadError> },
    }
}

impl<F, T, E> Future for BulkheadFuture<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, BulkheadError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            BulkheadFutureProj::Called { fut, permit } => {
                let out = std::task::ready!(fut.poll(cx));
                drop(permit.take());
                Poll::Ready(out.map_err(BulkheadError::Inner))
            }
            BulkheadFutureProj::Shed { shed } => {
                let shed = shed.take().expect("BulkheadFuture polled after completion");
                Poll::Ready(Err(shed.widen()))
            }
        }
    }
}
