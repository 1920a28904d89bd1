//! The setters of [`FallbackProtocolBuilder`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::attempt::{DegradeLevel, default_degrade_levels};
use super::error::InvalidFallbackConfig;
use super::gate::{ResourceGate, StaticGate};
use super::hooks::{FallbackEvent, FallbackStage, Hooks};
use super::inner::{BackoffFactory, BlockingSleep, Inner};
use super::protocol::FallbackProtocol;
use super::queue::RequestQueue;
use super::strategy::FallbackStrategy;
use crate::backoff::ExponentialBackoff;
use crate::cache::ResponseCache;
use crate::circuit_breaker::CircuitBreakerRegistry;
use crate::clock::{SharedClock, SystemClock};
use crate::resource::ResourceType;

/// Configures a [`FallbackProtocol`].
///
/// # Default
///
/// A [`StaticGate`] reading everything healthy; no providers (the gate's alternatives are used);
/// degrade levels 100 % / 50 % / 25 %; no queue, cache or breakers; retries after 200 ms and
/// 400 ms; cache TTL 5 min with 1 h max staleness; queued requests get 5 attempts; no
/// concurrency limit; the [`SystemClock`]; the seed's default order per resource type.
pub struct FallbackProtocolBuilder {
    gate: Arc<dyn ResourceGate>,
    providers: Vec<String>,
    levels: Vec<DegradeLevel>,
    queue: Option<Arc<dyn RequestQueue>>,
    queue_max_attempts: u32,
    cache: Option<Arc<dyn ResponseCache>>,
    cache_ttl: Duration,
    max_staleness: Duration,
    breakers: Option<Arc<CircuitBreakerRegistry>>,
    backoff: BackoffFactory,
    hooks: Hooks,
    clock: SharedClock,
    orders: HashMap<ResourceType, Vec<FallbackStrategy>>,
    shed_limit: Option<usize>,
    blocking_sleep: BlockingSleep,
}

impl fmt::Debug for FallbackProtocolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackProtocolBuilder")
            .field("providers", &self.providers)
            .field("levels", &self.levels)
            .field("orders", &self.orders)
            .finish()
    }
}

impl Default for FallbackProtocolBuilder {
    fn default() -> Self {
        Self::new()
    }
}

fn default_backoff() -> BackoffFactory {
    const SCHEDULE: ExponentialBackoff = ExponentialBackoff::builder()
        .with_max_retries(2)
        .with_base_delay(Duration::from_millis(200))
        .build_const();
    Arc::new(|| Box::new(SCHEDULE))
}

impl FallbackProtocolBuilder {
    /// A builder with the defaults above.
    pub fn new() -> Self {
        Self {
            gate: Arc::new(StaticGate::new()),
            providers: Vec::new(),
            levels: default_degrade_levels(),
            queue: None,
            queue_max_attempts: 5,
            cache: None,
            cache_ttl: Duration::from_secs(300),
            max_staleness: Duration::from_secs(3600),
            breakers: None,
            backoff: default_backoff(),
            hooks: Hooks::default(),
            clock: SystemClock::shared(),
            orders: HashMap::new(),
            shed_limit: None,
            blocking_sleep: Arc::new(std::thread::sleep),
        }
    }

    /// The gate asked whether resources are usable (the resource manager in production).
    pub fn gate(mut self, gate: Arc<dyn ResourceGate>) -> Self {
        self.gate = gate;
        self
    }

    /// The providers `SwitchProvider` walks, best first; the first is the default primary.
    /// When empty, the gate's suggested alternatives are used.
    pub fn providers<I, S>(mut self, providers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.providers = providers.into_iter().map(Into::into).collect();
        self
    }

    /// The quality levels `DegradeService` steps down; the first must be full quality.
    pub fn degrade_levels(mut self, levels: impl IntoIterator<Item = DegradeLevel>) -> Self {
        self.levels = levels.into_iter().collect();
        self
    }

    /// The durable queue behind `QueueRequest`.
    pub fn queue(mut self, queue: Arc<dyn RequestQueue>) -> Self {
        self.queue = Some(queue);
        self
    }

    /// Deliveries a queued request gets before it is dead-lettered (at least 1).
    pub fn queue_max_attempts(mut self, n: u32) -> Self {
        self.queue_max_attempts = n.max(1);
        self
    }

    /// The cache behind `UseCache`, with the TTL of stored answers and the staleness accepted.
    pub fn cache(mut self, cache: Arc<dyn ResponseCache>, ttl: Duration, max_staleness: Duration) -> Self {
        self.cache = Some(cache);
        self.cache_ttl = ttl;
        self.max_staleness = max_staleness;
        self
    }

    /// The registry of breakers used by `CircuitBreak` (breaker `"{resource}:{operation}"`,
    /// created on first use from the registry's template) and `SwitchProvider` (skips a
    /// provider whose breaker, named after it, exists and is open). The registry's bound
    /// (by default [`DEFAULT_MAX_BREAKERS`](crate::DEFAULT_MAX_BREAKERS)) caps the breakers made
    /// per operation: idle closed ones are dropped, least recently used first.
    pub fn breakers(mut self, breakers: Arc<CircuitBreakerRegistry>) -> Self {
        self.breakers = Some(breakers);
        self
    }

    /// The delays of the `Retry` strategy: any backoff (`Iterator<Item = Duration> + Clone`),
    /// cloned afresh for each execution; its length is the number of retries.
    pub fn retry_backoff<B>(mut self, backoff: B) -> Self
    where
        B: Iterator<Item = Duration> + Clone + Send + Sync + 'static,
    {
        self.backoff = Arc::new(move || Box::new(backoff.clone()));
        self
    }

    /// The clock for durations in traces and cache ages (use `TokioClock` under paused time).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the default strategy order for `resource`.
    pub fn order(
        mut self,
        resource: ResourceType,
        order: impl IntoIterator<Item = FallbackStrategy>,
    ) -> Self {
        self.orders.insert(resource, order.into_iter().collect());
        self
    }

    /// The number of concurrent executions above which `LoadShed` rejects normal and low
    /// priority calls.
    pub fn concurrency_limit(mut self, limit: usize) -> Self {
        self.shed_limit = Some(limit);
        self
    }

    /// How blocking executions wait between retries (default `std::thread::sleep`).
    pub fn blocking_sleeper(mut self, sleep: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.blocking_sleep = Arc::new(sleep);
        self
    }

    /// Adds an async hook run at `stage`: the seed's `add_stage_hook`.
    pub fn add_stage_hook<F, Fut>(mut self, stage: FallbackStage, hook: F) -> Self
    where
        F: Fn(FallbackEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks.add(Some(stage), hook);
        self
    }

    /// Adds an async hook run at every stage.
    pub fn on_event<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(FallbackEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks.add(None, hook);
        self
    }

    /// Checks the settings and builds the protocol.
    pub fn build(self) -> Result<FallbackProtocol, InvalidFallbackConfig> {
        check_levels(&self.levels)?;
        if let Some((resource, _)) = self.orders.iter().find(|(_, o)| o.is_empty()) {
            return Err(InvalidFallbackConfig::EmptyOrder(*resource));
        }
        if self.shed_limit == Some(0) {
            return Err(InvalidFallbackConfig::ZeroConcurrency);
        }
        Ok(self.assemble())
    }

    pub(crate) fn assemble(mut self) -> FallbackProtocol {
        for (i, level) in self.levels.iter_mut().enumerate() {
            level.level = i;
        }
        let wall_anchor = self.clock.wall() - self.clock.now();
        let inner = Inner {
            gate: self.gate,
            providers: self.providers,
            levels: self.levels,
            queue: self.queue,
            queue_max_attempts: self.queue_max_attempts,
            cache: self.cache,
            cache_ttl: self.cache_ttl,
            max_staleness: self.max_staleness,
            breakers: self.breakers,
            backoff: self.backoff,
            hooks: self.hooks,
            clock: self.clock,
            wall_anchor,
            orders: self.orders,
            shed_limit: self.shed_limit,
            inflight: Default::default(),
            blocking_sleep: self.blocking_sleep,
        };
        FallbackProtocol { inner: Arc::new(inner) }
    }
}

fn check_levels(levels: &[DegradeLevel]) -> Result<(), InvalidFallbackConfig> {
    let bad = |m: &str| Err(InvalidFallbackConfig::DegradeLevels(m.to_owned()));
    let Some(first) = levels.first() else { return bad("at least one level is needed") };
    if first.max_tokens_scale != 1.0 || first.batch_size_scale != 1.0 || first.temperature_scale != 1.0 {
        return bad("the first level must be full quality (all scales 1.0)");
    }
    let in_range = |s: f64| s > 0.0 && s <= 1.0;
    for l in levels {
        if ![l.max_tokens_scale, l.temperature_scale, l.batch_size_scale].into_iter().all(in_range) {
            return bad("every scale must lie in (0, 1]");
        }
    }
    Ok(())
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
}
