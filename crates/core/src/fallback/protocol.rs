//! [`FallbackProtocol`]: its configuration, builder and entry points.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::attempt::{Attempt, DegradeLevel};
use super::block_on::block_on;
use super::builder::FallbackProtocolBuilder;
use super::engine::{InFlight, LeanStart, Run, Sleeper};
use super::error::FallbackError;
use super::gate::ResourceGate;
use super::hooks::Hooks;
use super::outcome::Outcome;
use super::queue::RequestQueue;
use super::request::FallbackRequest;
use super::strategy::FallbackStrategy;
use crate::cache::ResponseCache;
use crate::circuit_breaker::CircuitBreakerRegistry;
use crate::clock::SharedClock;
use crate::resource::{Context, ResourceType};

pub(crate) type BackoffFactory = Arc<dyn Fn() -> Box<dyn Iterator<Item = Duration> + Send> + Send + Sync>;
pub(crate) type BlockingSleep = Arc<dyn Fn(Duration) + Send + Sync>;

pub(crate) struct Inner {
    pub(crate) gate: Arc<dyn ResourceGate>,
    pub(crate) providers: Vec<String>,
    pub(crate) levels: Vec<DegradeLevel>,
    pub(crate) queue: Option<Arc<dyn RequestQueue>>,
    pub(crate) queue_max_attempts: u32,
    pub(crate) cache: Option<Arc<dyn ResponseCache>>,
    pub(crate) cache_ttl: Duration,
    pub(crate) max_staleness: Duration,
    pub(crate) breakers: Option<Arc<CircuitBreakerRegistry>>,
    pub(crate) backoff: BackoffFactory,
    pub(crate) hooks: Hooks,
    pub(crate) clock: SharedClock,
    pub(crate) wall_anchor: SystemTime,
    pub(crate) orders: HashMap<ResourceType, Vec<FallbackStrategy>>,
    pub(crate) shed_limit: Option<usize>,
    pub(crate) inflight: crate::stripes::Gauge,
    pub(crate) blocking_sleep: BlockingSleep,
}

impl Inner {
    /// Wall time derived from the monotonic clock, so TTLs follow paused or manual time.
    pub(crate) fn wall_now(&self) -> SystemTime {
        self.wall_anchor + self.clock.now()
    }
}

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

impl Default for FallbackProtocol {
    /// The protocol with every default of [`FallbackProtocolBuilder`] (valid by construction).
    fn default() -> Self {
        FallbackProtocolBuilder::new().assemble()
    }
}

impl FallbackProtocol {
    /// A builder with the defaults listed on [`FallbackProtocolBuilder`].
    pub fn builder() -> FallbackProtocolBuilder {
        FallbackProtocolBuilder::new()
    }

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

    /// Whether calls with strategy `order` may ever go lean: no hooks, no shedding, no per-call
    /// breaker. Fixed for a protocol and an order, so a caller may ask once.
    pub(crate) fn lean_possible(&self, order: &[FallbackStrategy]) -> bool {
        let p = &*self.inner;
        let per_call_breaker = p.breakers.is_some() && order.contains(&FallbackStrategy::CircuitBreak);
        p.hooks.is_empty() && !per_call_breaker && !order.contains(&FallbackStrategy::LoadShed)
    }

    /// Starts a lean execution for a caller that makes the primary call itself and keeps only
    /// the value, for an order where [`lean_possible`](Self::lean_possible) holds: the primary's
    /// provider, when the gate is not pressured. `None`: use [`execute`](Self::execute).
    // Always inlined: returned from a call, the start is read back just after being written,
    // which stalls.
    #[inline(always)]
    pub(crate) fn lean_start<'p>(
        &'p self,
        ctx: &'p Context,
        resource: ResourceType,
    ) -> Option<(LeanStart<'p>, Option<&'p str>)> {
        let p = &*self.inner;
        let provider = ctx.model.as_deref().or_else(|| p.providers.first().map(String::as_str));
        if p.gate.reading(resource, ctx, provider).status.is_pressured() {
            return None;
        }
        let guard = InFlight::enter(&p.inflight);
        Some((LeanStart { guard, provider }, provider))
    }

    /// A lean execution's primary call succeeded.
    pub(crate) fn lean_served(&self, start: LeanStart<'_>, resource: ResourceType) {
        served_by_primary(resource);
        tracing::debug!(%resource, by = "primary", calls = 1, "fallback served");
        drop(start);
    }

    /// A lean execution's primary call failed with `failed`: the strategies of `order` follow.
    pub(crate) async fn resume_lean<'p, T, E, F, Fut>(
        &'p self,
        start: LeanStart<'p>,
        req: FallbackRequest<T>,
        order: &'p [FallbackStrategy],
        failed: E,
        op: F,
    ) -> Result<Outcome<T>, FallbackError<E>>
    where
        E: fmt::Display,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        Run::lean(&self.inner, req, order, op).resume(start, failed).await
    }

    /// The blocking twin of [`execute_with_fallback`](Self::execute_with_fallback).
    ///
    /// Backoff delays use the blocking sleeper (`std::thread::sleep` unless set with
    /// [`FallbackProtocolBuilder::blocking_sleeper`]); async hooks are polled on the calling
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

/// Counts an answer of the primary call in `elf_fallback_served_total`, with keys made at
/// compile time (a key with labels made per call would allocate them and hash them).
fn served_by_primary(resource: ResourceType) {
    use metrics::{Key, Label, Level, Metadata};
    const ALL: [ResourceType; 8] = ResourceType::ALL;
    const fn labels(r: ResourceType) -> [Label; 2] {
        [Label::from_static_parts("resource", r.as_str()), Label::from_static_parts("by", "primary")]
    }
    static LABELS: [[Label; 2]; 8] = [
        labels(ALL[0]),
        labels(ALL[1]),
        labels(ALL[2]),
        labels(ALL[3]),
        labels(ALL[4]),
        labels(ALL[5]),
        labels(ALL[6]),
        labels(ALL[7]),
    ];
    const NAME: &str = "elf_fallback_served_total";
    static KEYS: [Key; 8] = [
        Key::from_static_parts(NAME, &LABELS[0]),
        Key::from_static_parts(NAME, &LABELS[1]),
        Key::from_static_parts(NAME, &LABELS[2]),
        Key::from_static_parts(NAME, &LABELS[3]),
        Key::from_static_parts(NAME, &LABELS[4]),
        Key::from_static_parts(NAME, &LABELS[5]),
        Key::from_static_parts(NAME, &LABELS[6]),
        Key::from_static_parts(NAME, &LABELS[7]),
    ];
    static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
    let Some(i) = ALL.iter().position(|r| *r == resource) else { return };
    metrics::with_recorder(|r| r.register_counter(&KEYS[i], &METADATA).increment(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_is_exact_when_calls_end_on_other_threads() {
        let protocol = FallbackProtocol::builder().providers(["a"]).build().unwrap_or_else(|e| panic!("{e}"));
        let ctx = Context::new();
        let (threads, calls) = (12, 50);
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            for _ in 0..threads {
                let (tx, protocol, ctx) = (tx.clone(), &protocol, &ctx);
                s.spawn(move || {
                    for _ in 0..calls {
                        let started = protocol.lean_start(ctx, ResourceType::ApiQuota);
                        let (start, _) = started.unwrap_or_else(|| panic!("gate is not pressured"));
                        tx.send(start).unwrap_or_else(|_| panic!("receiver gone"));
                    }
                });
            }
            drop(tx);
            let started: Vec<_> = rx.iter().collect();
            assert_eq!(protocol.in_flight(), threads * calls);
            for (n, start) in started.into_iter().enumerate() {
                protocol.lean_served(start, ResourceType::ApiQuota);
                assert_eq!(protocol.in_flight(), threads * calls - n - 1);
            }
        });
    }
}
