//! The tower layer for [`Retry`].

use super::{AsyncSleeper, ResultPredicate, Retry, RetryError, RetryHintSource, RetryNotify, RetryPredicate};
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower_layer::Layer;
use tower_service::Service;

/// Retries failed requests with a shared [`Retry`] policy: each attempt waits for the service
/// to be ready and sends a clone of the request. The error after the last attempt is a
/// [`RetryError`] with the attempt count and the last error.
///
/// The response future is boxed (one allocation per request), so requests, the service and its
/// futures must be `Send + 'static`.
///
/// ```
/// use elf_resilience_core::{FixedDelay, Retry, RetryLayer};
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let calls = Arc::new(AtomicU32::new(0));
/// let flaky = service_fn({
///     let calls = calls.clone();
///     move |x: u32| {
///         let n = calls.fetch_add(1, Ordering::SeqCst);
///         async move { if n < 2 { Err("busy") } else { Ok(x) } }
///     }
/// });
/// let retry = Retry::new(FixedDelay::new().with_delay(Duration::from_secs(1)).with_max_retries(3));
/// let svc = RetryLayer::new(retry).layer(flaky);
/// assert_eq!(svc.oneshot(9).await.unwrap(), 9);
/// assert_eq!(calls.load(Ordering::SeqCst), 3);
/// # }
/// ```
pub struct RetryLayer<Pol> {
    policy: Arc<Pol>,
}

impl<Pol> RetryLayer<Pol> {
    /// A layer retrying with `policy`.
    pub fn new(policy: Pol) -> Self {
        Self { policy: Arc::new(policy) }
    }

    /// A layer retrying with an already shared `policy`.
    pub fn from_arc(policy: Arc<Pol>) -> Self {
        Self { policy }
    }
}

impl<Pol> Clone for RetryLayer<Pol> {
    fn clone(&self) -> Self {
        Self { policy: Arc::clone(&self.policy) }
    }
}

impl<Pol: fmt::Debug> fmt::Debug for RetryLayer<Pol> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer").field("policy", &self.policy).finish()
    }
}

impl<S, Pol> Layer<S> for RetryLayer<Pol> {
    type Service = RetryService<S, Pol>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService { inner, policy: Arc::clone(&self.policy) }
    }
}

/// A service whose failed requests are retried. Made by [`RetryLayer`].
pub struct RetryService<S, Pol> {
    inner: S,
    policy: Arc<Pol>,
}

impl<S: Clone, Pol> Clone for RetryService<S, Pol> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), policy: Arc::clone(&self.policy) }
    }
}

impl<S: fmt::Debug, Pol: fmt::Debug> fmt::Debug for RetryService<S, Pol> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryService").field("inner", &self.inner).field("policy", &self.policy).finish()
    }
}

/// The response future of [`RetryService`]; `V` is what a rejected response is kept as (see
/// [`Retry::retry_on_result`]).
pub type RetryServiceFuture<T, E, V = Infallible> =
    Pin<Box<dyn Future<Output = Result<T, RetryError<E, V>>> + Send>>;

impl<S, Req, B, P, R, N, H, Sl> Service<Req> for RetryService<S, Retry<B, P, R, N, H, Sl>>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send,
    S::Error: Send,
    Req: Clone + Send + 'static,
    Retry<B, P, R, N, H, Sl>: Send + Sync + 'static,
    B: Iterator<Item = Duration> + Clone + Send,
    Sl: AsyncSleeper,
    Sl::Sleep: Send,
    P: RetryPredicate<S::Error>,
    R: ResultPredicate<S::Response, Rejected: Send>,
    N: RetryNotify<S::Error>,
    H: RetryHintSource<S::Error>,
{
    type Response = S::Response;
    type Error = RetryError<S::Error, R::Rejected>;
    type Future = RetryServiceFuture<S::Response, S::Error, R::Rejected>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Every attempt waits for readiness itself, on its own clone of the service.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let policy = Arc::clone(&self.policy);
        let svc = self.inner.clone();
        Box::pin(async move {
            policy
                .call_async(move || {
                    let (mut svc, req) = (svc.clone(), req.clone());
                    async move {
                        poll_fn(|cx| svc.poll_ready(cx)).await?;
                        svc.call(req).await
                    }
                })
                .await
        })
    }
}
