//! The tower layer for [`FallbackProtocol`].

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use tower_layer::Layer;
use tower_service::Service;

use super::attempt::Attempt;
use super::error::FallbackError;
use super::outcome::Outcome;
use super::protocol::FallbackProtocol;
use super::request::FallbackRequest;
use super::strategy::FallbackStrategy;
use crate::resource::{Context, ResourceType};

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

/// Derives the [`Context`] of an execution from the request.
///
/// Implemented by [`EmptyContext`] and by every `Fn(&Req) -> Context`.
pub trait ContextFromRequest<Req> {
    /// The context for `req`.
    fn context_for(&self, req: &Req) -> Context;
}

/// The default context source of [`FallbackLayer`]: `Context::new()` for every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyContext;

impl<Req> ContextFromRequest<Req> for EmptyContext {
    fn context_for(&self, _req: &Req) -> Context {
        Context::new()
    }
}

impl<Req, F: Fn(&Req) -> Context> ContextFromRequest<Req> for F {
    fn context_for(&self, req: &Req) -> Context {
        self(req)
    }
}

/// Runs every request through a [`FallbackProtocol`] for one [`ResourceType`].
///
/// Each attempt waits for readiness on its own clone of the inner service and calls it with a
/// [`WithAttempt`] holding a clone of the request, so the service and the request must be
/// `Clone`. The response is the protocol's [`Outcome`] (a value with how it was served, or the
/// ticket of a queued request); the error is a [`FallbackError`] carrying the trace. Use
/// [`fallback_into_result`](crate::fallback_into_result) to flatten both into a plain result.
///
/// The response future is boxed (one allocation per request), so requests, the service and its
/// futures must be `Send + 'static`.
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
pub struct FallbackLayer<C = EmptyContext> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for FallbackLayer<C> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared) }
    }
}

struct Shared<C> {
    protocol: FallbackProtocol,
    resource: ResourceType,
    order: Option<Vec<FallbackStrategy>>,
    context: C,
}

impl FallbackLayer {
    /// A layer running requests through `protocol` for `resource`, with an empty context and
    /// the protocol's strategy order for `resource`.
    pub fn new(protocol: FallbackProtocol, resource: ResourceType) -> Self {
        let shared = Shared { protocol, resource, order: None, context: EmptyContext };
        Self { shared: Arc::new(shared) }
    }
}

impl<C: Clone> FallbackLayer<C> {
    /// Derives each execution's context from the request (team, model, priority, ...).
    pub fn context_from<C2: Clone>(self, context: C2) -> FallbackLayer<C2> {
        let Shared { protocol, resource, order, .. } = unshare(self.shared);
        FallbackLayer { shared: Arc::new(Shared { protocol, resource, order, context }) }
    }

    /// Uses `order` instead of the protocol's strategy order for the resource.
    pub fn strategies(self, order: impl IntoIterator<Item = FallbackStrategy>) -> Self {
        let Shared { protocol, resource, context, .. } = unshare(self.shared);
        let order = Some(order.into_iter().collect());
        Self { shared: Arc::new(Shared { protocol, resource, order, context }) }
    }
}

/// Takes the settings out of a layer being configured (cloning them if the layer was shared).
fn unshare<C>(shared: Arc<Shared<C>>) -> Shared<C>
where
    Shared<C>: Clone,
{
    Arc::try_unwrap(shared).unwrap_or_else(|arc| (*arc).clone())
}

impl<C: Clone> Clone for Shared<C> {
    fn clone(&self) -> Self {
        Self {
            protocol: self.protocol.clone(),
            resource: self.resource,
            order: self.order.clone(),
            context: self.context.clone(),
        }
    }
}

impl<C> fmt::Debug for FallbackLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackLayer")
            .field("resource", &self.shared.resource)
            .field("order", &self.shared.order)
            .finish_non_exhaustive()
    }
}

impl<S, C> Layer<S> for FallbackLayer<C> {
    type Service = FallbackService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        FallbackService { inner, shared: Arc::clone(&self.shared) }
    }
}

/// A service whose requests run through a [`FallbackProtocol`]. Made by [`FallbackLayer`].
pub struct FallbackService<S, C = EmptyContext> {
    inner: S,
    shared: Arc<Shared<C>>,
}

impl<S: Clone, C> Clone for FallbackService<S, C> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), shared: Arc::clone(&self.shared) }
    }
}

impl<S: fmt::Debug, C> fmt::Debug for FallbackService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackService")
            .field("inner", &self.inner)
            .field("resource", &self.shared.resource)
            .finish_non_exhaustive()
    }
}

/// The response future of [`FallbackService`].
pub type FallbackServiceFuture<T, E> =
    Pin<Box<dyn Future<Output = Result<Outcome<T>, FallbackError<E>>> + Send>>;

impl<S, C, Req> Service<Req> for FallbackService<S, C>
where
    S: Service<WithAttempt<Req>> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send,
    S::Error: fmt::Display + Send,
    Req: Clone + Send + 'static,
    C: ContextFromRequest<Req> + Send + Sync + 'static,
{
    type Response = Outcome<S::Response>;
    type Error = FallbackError<S::Error>;
    type Future = FallbackServiceFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        // Every attempt waits for readiness itself, on its own clone of the service.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        let svc = self.inner.clone();
        Box::pin(async move {
            let mut call = FallbackRequest::new(shared.resource).context(shared.context.context_for(&req));
            if let Some(order) = &shared.order {
                call = call.strategies(order.iter().copied());
            }
            shared.protocol.execute(call, move |attempt| call_once(svc.clone(), attempt, req.clone())).await
        })
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
