//! [`FallbackProtocol`]: its configuration, builder and entry points.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::attempt::Attempt;
use super::block_on::block_on;
use super::engine::{Run, Sleeper};
use super::error::FallbackError;
use super::gate::ResourceGate;
use super::inner::Inner;
use super::outcome::Outcome;
use super::queue::RequestQueue;
use super::request::FallbackRequest;
use super::strategy::FallbackStrategy;
use crate::resource::{Context, ResourceType};

/// Runs an operation and, when it fails or its resource is short, applies fallback strategies
/// in order: the seed's `FallbackProtocol`.
///
/// Cheap to clone (an `Arc`); share one protocol between tasks.
///
/// ```
/// use elf_resilience_core::{Context, FallbackProtocol, FallbackStrategy, ResourceStatus, ResourceType, StaticGate};
/// use std::sync::Arc;
///
/// let gate = Arc::new(StaticGate::new());
/// gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
/// let protocol = FallbackProtocol::builder()
///     .gate(gate)
///     .providers(["gpt-4", "claude", "gpt-3.5"])
///     .build()?;
///
/// let ctx = Context::new().model("gpt-4");
/// let outcome = protocol.execute_blocking(ctx, ResourceType::ApiQuota, |a| {
///     Ok::<_, std::io::Error>(format!("answer from {}", a.model_or("?")))
/// })?;
/// assert_eq!(outcome.value().map(String::as_str), Some("answer from claude"));
/// assert_eq!(outcome.served_by(), Some(FallbackStrategy::SwitchProvider));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FallbackProtocol {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for FallbackProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackProtocol")
            .field("gate", &self.inner.gate)
            .field("providers", &self.inner.providers)
            .field("levels", &self.inner.levels.len())
            .field("queue", &self.inner.queue.is_some())
            .field("cache", &self.inner.cache.is_some())
            .field("hooks", &self.inner.hooks)
            .finish()
    }
}

impl FallbackProtocol {
    /// The seed's `execute_with_fallback`: runs `op` for `resource` with the resource's
    /// default strategy order.
    pub async fn execute_with_fallback<T, E, F, Fut>(
        &self,
        ctx: Context,
        resource: ResourceType,
        op: F,
    ) -> Result<Outcome<T>, FallbackError<E>>
    where
        E: fmt::Display,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.execute(FallbackRequest::new(resource).context(ctx), op).await
    }

    /// Runs `op` under the settings of `req` (order, cache key, queue payload).
    pub async fn execute<T, E, F, Fut>(
        &self,
        req: FallbackRequest<T>,
        op: F,
    ) -> Result<Outcome<T>, FallbackError<E>>
    where
        E: fmt::Display,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        Run::new(&self.inner, req, op, Sleeper::Async).run().await
    }

    /// The blocking twin of [`execute_with_fallback`](Self::execute_with_fallback).
    ///
    /// Backoff delays use the blocking sleeper (`std::thread::sleep` unless set with
    /// [`FallbackProtocolBuilder::blocking_sleeper`](crate::FallbackProtocolBuilder::blocking_sleeper)); async hooks are polled on the calling
    /// thread, so they must not need a tokio runtime.
    pub fn execute_blocking<T, E, F>(
        &self,
        ctx: Context,
        resource: ResourceType,
        op: F,
    ) -> Result<Outcome<T>, FallbackError<E>>
    where
        E: fmt::Display,
        F: FnMut(Attempt) -> Result<T, E>,
    {
        self.execute_request_blocking(FallbackRequest::new(resource).context(ctx), op)
    }

    /// The blocking twin of [`execute`](Self::execute).
    pub fn execute_request_blocking<T, E, F>(
        &self,
        req: FallbackRequest<T>,
        mut op: F,
    ) -> Result<Outcome<T>, FallbackError<E>>
    where
        E: fmt::Display,
        F: FnMut(Attempt) -> Result<T, E>,
    {
        let sleep = Sleeper::Blocking(self.inner.blocking_sleep.as_ref());
        let op = move |a: Attempt| std::future::ready(op(a));
        block_on(Run::new(&self.inner, req, op, sleep).run())
    }

    /// The gate this protocol consults.
    pub fn gate(&self) -> &Arc<dyn ResourceGate> {
        &self.inner.gate
    }

    /// The queue behind `QueueRequest`, if any.
    pub fn queue(&self) -> Option<&Arc<dyn RequestQueue>> {
        self.inner.queue.as_ref()
    }

    /// The strategy order used for `resource` when a call names none.
    pub fn order_for(&self, resource: ResourceType) -> &[FallbackStrategy] {
        match self.inner.orders.get(&resource) {
            Some(order) => order,
            None => FallbackStrategy::default_order(resource),
        }
    }

    /// How many executions are running now.
    pub fn in_flight(&self) -> usize {
        self.inner.inflight.get()
    }
}
