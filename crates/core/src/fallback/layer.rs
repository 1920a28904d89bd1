//! The tower layer for [`FallbackProtocol`].

mod from_request;

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use tower_layer::Layer;
use tower_service::Service;

pub use self::from_request::{
    CacheKeyFn, CacheKeyFromRequest, ContextFromRequest, EmptyContext, NoCacheKey, NoQueuePayload,
    QueuePayloadFn, QueuePayloadFromRequest,
};
use super::attempt::Attempt;
use super::error::FallbackError;
use super::outcome::Outcome;
use super::protocol::FallbackProtocol;
use super::request::FallbackRequest;
use super::strategy::FallbackStrategy;
use crate::resource::ResourceType;

/// What the inner service of a [`FallbackService`] receives: the caller's request and the
/// [`Attempt`] it runs under (provider, degrade level, attempt number, context).
///
/// The inner service reads `attempt` to pick the provider and scale its knobs, exactly as an
/// operation given to [`FallbackProtocol::execute`] does.
#[derive(Debug, Clone, PartialEq)]
pub struct WithAttempt<Req> {
    /// The attempt set up by the protocol.
    pub attempt: Attempt,
    /// A clone of the caller's request.
    pub request: Req,
}

/// Runs every request through a [`FallbackProtocol`] for one [`ResourceType`].
///
/// Each attempt waits for readiness on its own clone of the inner service and calls it with a
/// [`WithAttempt`] holding a clone of the request, so the service and the request must be
/// `Clone`. The response is the protocol's [`Outcome`] (a value with how it was served, or the
/// ticket of a queued request); the error is a [`FallbackError`] carrying the trace. Use
/// [`fallback_into_result`](crate::fallback_into_result) to flatten both into a plain result.
///
/// Per request, the layer derives the context ([`context_from`](Self::context_from)), the
/// cache key `UseCache` reads and fills ([`cache_key`](Self::cache_key), responses must be
/// serde) and the payload `QueueRequest` enqueues ([`queue_payload`](Self::queue_payload));
/// without them those two strategies are skipped and the trace says why.
///
/// The response future is boxed (one allocation per request), so requests, the service and its
/// futures must be `Send + 'static`: the protocol's execution is an `async fn`, whose type has
/// no name a service could declare on stable Rust.
///
/// ```
/// use elf_resilience_core::{FallbackLayer, FallbackProtocol, ResourceType, StaticGate, WithAttempt};
/// use elf_resilience_core::{Context, FallbackStrategy};
/// use std::sync::Arc;
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let protocol = FallbackProtocol::builder()
///     .gate(Arc::new(StaticGate::new()))
///     .providers(["gpt-4", "claude"])
///     .build()?;
/// let llm = service_fn(|r: WithAttempt<&'static str>| async move {
///     match r.attempt.model_or("?") {
///         "gpt-4" => Err("429 Too Many Requests"),
///         model => Ok(format!("{model}: {}", r.request)),
///     }
/// });
/// let svc = FallbackLayer::new(protocol, ResourceType::ApiQuota)
///     .strategies([FallbackStrategy::SwitchProvider])
///     .context_from(|_: &&str| Context::new().model("gpt-4"))
///     .layer(llm);
/// let outcome = svc.oneshot("hello").await?;
/// assert_eq!(outcome.value().map(String::as_str), Some("claude: hello"));
/// assert_eq!(outcome.served_by(), Some(FallbackStrategy::SwitchProvider));
/// # Ok(())
/// # }
/// ```
pub struct FallbackLayer<C = EmptyContext, K = NoCacheKey, Q = NoQueuePayload> {
    shared: Arc<Shared<C, K, Q>>,
}

impl<C, K, Q> Clone for FallbackLayer<C, K, Q> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared) }
    }
}

#[derive(Clone)]
struct Shared<C, K, Q> {
    protocol: FallbackProtocol,
    resource: ResourceType,
    order: Option<Vec<FallbackStrategy>>,
    context: C,
    cache_key: K,
    queue: Q,
}

impl FallbackLayer {
    /// A layer running requests through `protocol` for `resource`, with an empty context, the
    /// protocol's strategy order for `resource`, no cache key and no queue payload.
    pub fn new(protocol: FallbackProtocol, resource: ResourceType) -> Self {
        let shared = Shared {
            protocol,
            resource,
            order: None,
            context: EmptyContext,
            cache_key: NoCacheKey,
            queue: NoQueuePayload,
        };
        Self { shared: Arc::new(shared) }
    }
}

impl<C: Clone, K: Clone, Q: Clone> FallbackLayer<C, K, Q> {
    /// Derives each execution's context from the request (team, model, priority, ...): a
    /// `Fn(&Req) -> Context`.
    pub fn context_from<C2>(self, context: C2) -> FallbackLayer<C2, K, Q> {
        self.retype(|_, cache_key, queue| (context, cache_key, queue))
    }

    /// Uses `order` instead of the protocol's strategy order for the resource.
    pub fn strategies(self, order: impl IntoIterator<Item = FallbackStrategy>) -> Self {
        let mut s = unshare(self.shared);
        s.order = Some(order.into_iter().collect());
        Self::from(s)
    }

    /// Gives each request a cache key, so `UseCache` answers from the protocol's cache and
    /// successful answers (with `UseCache` in the order) are stored under it with the
    /// protocol's TTL. `key` returns a `String`, or an `Option<String>` to leave a request
    /// uncached. The inner service's response must be `Serialize + DeserializeOwned`.
    ///
    /// ```
    /// use elf_resilience_core::{FallbackLayer, FallbackProtocol, FallbackStrategy, InMemoryCache, ResourceType, WithAttempt};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::time::Duration;
    /// use tower::{Layer, ServiceExt, service_fn};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let cache = Arc::new(InMemoryCache::new(100)?);
    /// let protocol = FallbackProtocol::builder()
    ///     .cache(cache, Duration::from_secs(60), Duration::from_secs(600))
    ///     .build()?;
    /// let down = Arc::new(AtomicBool::new(false));
    /// let d = down.clone();
    /// let db = service_fn(move |r: WithAttempt<u32>| {
    ///     let up = !d.load(Ordering::SeqCst);
    ///     async move { if up { Ok(format!("user {}", r.request)) } else { Err("connection refused") } }
    /// });
    /// let svc = FallbackLayer::new(protocol, ResourceType::Database)
    ///     .strategies([FallbackStrategy::UseCache])
    ///     .cache_key(|id: &u32| format!("user:{id}"))
    ///     .layer(db);
    /// svc.clone().oneshot(7).await?;
    /// down.store(true, Ordering::SeqCst);
    /// let outcome = svc.oneshot(7).await?;
    /// assert_eq!(outcome.value().map(String::as_str), Some("user 7"));
    /// assert!(outcome.served().unwrap().from_cache);
    /// # Ok(())
    /// # }
    /// ```
    pub fn cache_key<F>(self, key: F) -> FallbackLayer<C, CacheKeyFn<F>, Q> {
        self.retype(|context, _, queue| (context, CacheKeyFn(key), queue))
    }

    /// Gives each request the payload `QueueRequest` enqueues (with the protocol's queue) for
    /// the handler registered under `handler`; the caller then gets [`Outcome::Queued`] with
    /// the ticket. `payload` returns any `Serialize` value, typically the request or its parts;
    /// a `QueueWorker` replays it later with a handler registered under the same name.
    ///
    /// ```
    /// use elf_resilience_core::{FallbackLayer, FallbackProtocol, FallbackStrategy, InMemoryQueue, RequestQueue};
    /// use elf_resilience_core::{ResourceStatus, ResourceType, StaticGate, WithAttempt};
    /// use std::sync::Arc;
    /// use tower::{Layer, ServiceExt, service_fn};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Arc::new(StaticGate::new());
    /// gate.set(ResourceType::ApiQuota, ResourceStatus::Exhausted, 100.0);
    /// let queue = Arc::new(InMemoryQueue::new());
    /// let protocol = FallbackProtocol::builder().gate(gate).queue(queue.clone()).build()?;
    /// let llm = service_fn(|r: WithAttempt<String>| async move { Ok::<_, String>(r.request) });
    /// let svc = FallbackLayer::new(protocol, ResourceType::ApiQuota)
    ///     .strategies([FallbackStrategy::QueueRequest])
    ///     .queue_payload("summarize", |prompt: &String| serde_json::json!({ "prompt": prompt }))
    ///     .layer(llm);
    /// let outcome = svc.oneshot("a long report".to_owned()).await?;
    /// let ticket = outcome.ticket().expect("queued while the quota is exhausted");
    /// let queued = queue.get(ticket)?.unwrap();
    /// assert_eq!((queued.handler.as_str(), &queued.payload["prompt"]), ("summarize", &serde_json::json!("a long report")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn queue_payload<F>(
        self,
        handler: impl Into<String>,
        payload: F,
    ) -> FallbackLayer<C, K, QueuePayloadFn<F>> {
        let queue = QueuePayloadFn { handler: handler.into().into(), payload };
        self.retype(|context, cache_key, _| (context, cache_key, queue))
    }

    /// Replaces the per-request parts (context, cache key, queue payload), keeping the rest.
    fn retype<C2, K2, Q2>(self, parts: impl FnOnce(C, K, Q) -> (C2, K2, Q2)) -> FallbackLayer<C2, K2, Q2> {
        let s = unshare(self.shared);
        let (context, cache_key, queue) = parts(s.context, s.cache_key, s.queue);
        FallbackLayer::from(Shared {
            protocol: s.protocol,
            resource: s.resource,
            order: s.order,
            context,
            cache_key,
            queue,
        })
    }
}

impl<C, K, Q> From<Shared<C, K, Q>> for FallbackLayer<C, K, Q> {
    fn from(shared: Shared<C, K, Q>) -> Self {
        Self { shared: Arc::new(shared) }
    }
}

/// Takes the settings out of a layer being configured (cloning them if the layer was shared).
fn unshare<C: Clone, K: Clone, Q: Clone>(shared: Arc<Shared<C, K, Q>>) -> Shared<C, K, Q> {
    Arc::try_unwrap(shared).unwrap_or_else(|arc| (*arc).clone())
}

impl<C, K, Q> fmt::Debug for FallbackLayer<C, K, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackLayer")
            .field("resource", &self.shared.resource)
            .field("order", &self.shared.order)
            .finish_non_exhaustive()
    }
}

impl<S, C, K, Q> Layer<S> for FallbackLayer<C, K, Q> {
    type Service = FallbackService<S, C, K, Q>;

    fn layer(&self, inner: S) -> Self::Service {
        FallbackService { inner, shared: Arc::clone(&self.shared) }
    }
}

/// A service whose requests run through a [`FallbackProtocol`]. Made by [`FallbackLayer`].
pub struct FallbackService<S, C = EmptyContext, K = NoCacheKey, Q = NoQueuePayload> {
    inner: S,
    shared: Arc<Shared<C, K, Q>>,
}

impl<S: Clone, C, K, Q> Clone for FallbackService<S, C, K, Q> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), shared: Arc::clone(&self.shared) }
    }
}

impl<S: fmt::Debug, C, K, Q> fmt::Debug for FallbackService<S, C, K, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackService")
            .field("inner", &self.inner)
            .field("resource", &self.shared.resource)
            .finish_non_exhaustive()
    }
}

impl<S, C, K, Q> FallbackService<S, C, K, Q> {
    /// The protocol's settings for `req`: resource, order, context, cache key, queue payload.
    fn request_for<Req, T>(&self, req: &Req) -> FallbackRequest<T>
    where
        C: ContextFromRequest<Req>,
        K: CacheKeyFromRequest<Req, T>,
        Q: QueuePayloadFromRequest<Req>,
    {
        let s = &*self.shared;
        let mut call = FallbackRequest::new(s.resource).context(s.context.context_for(req));
        if let Some(order) = &s.order {
            call = call.strategies(order.iter().copied());
        }
        s.queue.apply(req, s.cache_key.apply(req, call))
    }
}

type BoxedRun<T, E> = Pin<Box<dyn Future<Output = Result<Outcome<T>, FallbackError<E>>> + Send>>;

/// The response future of [`FallbackService`].
pub struct FallbackServiceFuture<T, E> {
    run: BoxedRun<T, E>,
}

impl<T, E> Future for FallbackServiceFuture<T, E> {
    type Output = Result<Outcome<T>, FallbackError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.run.as_mut().poll(cx)
    }
}

impl<T, E> fmt::Debug for FallbackServiceFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackServiceFuture").finish_non_exhaustive()
    }
}

impl<S, C, K, Q, Req> Service<Req> for FallbackService<S, C, K, Q>
where
    S: Service<WithAttempt<Req>> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send,
    S::Error: fmt::Display + Send,
    Req: Clone + Send + 'static,
    C: ContextFromRequest<Req>,
    K: CacheKeyFromRequest<Req, S::Response>,
    Q: QueuePayloadFromRequest<Req>,
{
    type Response = Outcome<S::Response>;
    type Error = FallbackError<S::Error>;
    type Future = FallbackServiceFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        // Every attempt waits for readiness itself, on its own clone of the service.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let call = self.request_for(&req);
        let protocol = self.shared.protocol.clone();
        let svc = self.inner.clone();
        let run = async move {
            protocol.execute(call, move |attempt| call_once(svc.clone(), attempt, req.clone())).await
        };
        FallbackServiceFuture { run: Box::pin(run) }
    }
}

/// One attempt: waits for `svc` to be ready, then calls it.
async fn call_once<S, Req>(mut svc: S, attempt: Attempt, request: Req) -> Result<S::Response, S::Error>
where
    S: Service<WithAttempt<Req>>,
{
    poll_fn(|cx| svc.poll_ready(cx)).await?;
    svc.call(WithAttempt { attempt, request }).await
}
