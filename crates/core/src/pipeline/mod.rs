//! Pipelines: several policies around one operation, in the seed's recommended layering.
//!
//! ```text
//! circuit breaker   outermost: stop cascading failures
//!   retry           transient errors
//!     fallback      resource exhaustion: switch provider, degrade, cache, queue
//!       rate limit  } per call that reaches the provider
//!       bulkhead    }
//!       timeout     innermost: each call bounded
//! ```
//!
//! [`PipelineBuilder`] sorts the layers into that order whatever order they are added in;
//! [`PipelineBuilder::in_given_order`] keeps the order of the calls instead.
//!
//! # Cost
//!
//! A pipeline of the usual shape runs each call flat, as one future with no heap allocation
//! while every layer lets it through: each layer's admission in turn, outermost first, then the
//! operation, then each layer hears the result, innermost first. The usual shape is at most six
//! layers, at most one breaker, fallback and bulkhead layer, a timeout only as the innermost
//! layer, and a fallback protocol without hooks, per-call breakers or `LoadShed` (the ones
//! [`FallbackProtocol::default`] and the seed's examples build). Work that only a refusal or a
//! failure needs happens then, boxed: a retry layer makes its delays at the first retry, a
//! fallback layer enters its protocol's engine only when the primary call fails or cannot go,
//! the timer starts only when the call first waits, and a full bulkhead is waited on.
//!
//! Other pipelines run each call nested, one future per layer inside the one around it, boxed
//! once per call (and once per step past the sixth layer); they behave the same.
//!
//! ```
//! use elf_resilience_core::{CircuitBreaker, Context, FixedDelay, Pipeline, ResourceType, FallbackProtocol};
//! use std::time::Duration;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let pipeline = Pipeline::builder()
//!     .timeout(Duration::from_secs(30))
//!     .fallback(FallbackProtocol::default(), ResourceType::ApiQuota)
//!     .retry(FixedDelay::new().with_max_retries(2).with_delay(Duration::from_millis(1)))
//!     .circuit_breaker(CircuitBreaker::new("llm"))
//!     .build();
//! assert_eq!(pipeline.layer_names(), ["circuit_breaker", "retry", "fallback", "timeout"]);
//! let answer = pipeline.call(Context::new(), |a| async move { Ok::<_, String>(a.number) }).await;
//! assert_eq!(answer.unwrap(), 1);
//! # });
//! ```

mod call;
mod error;
mod flat;
mod layers;
mod run;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use error::PipelineError;

use crate::bulkhead::Bulkhead;
use crate::circuit_breaker::CircuitBreaker;
use crate::fallback::{FallbackProtocol, FallbackStrategy};
use crate::rate_limit::RateLimiter;
use crate::resource::ResourceType;

/// Makes a retry layer's delays; called only when a call is to be retried.
type BackoffFactory = Box<dyn Fn() -> Box<dyn Iterator<Item = Duration> + Send> + Send + Sync>;

/// A fallback layer, with its strategy order resolved when the pipeline is built.
pub(crate) struct FallbackStep {
    pub(crate) protocol: FallbackProtocol,
    pub(crate) resource: ResourceType,
    pub(crate) order: Box<[FallbackStrategy]>,
    /// Whether the protocol allows the primary call to be made directly (for this order).
    pub(crate) lean: bool,
}

/// One layer of a pipeline.
pub(crate) enum Layer {
    CircuitBreaker(CircuitBreaker),
    Retry(BackoffFactory),
    Fallback(FallbackStep),
    RateLimit(Arc<RateLimiter>),
    Bulkhead(Bulkhead),
    Timeout(Duration),
}

impl Layer {
    fn name(&self) -> &'static str {
        match self {
            Self::CircuitBreaker(_) => "circuit_breaker",
            Self::Retry(_) => "retry",
            Self::Fallback(_) => "fallback",
            Self::RateLimit(_) => "rate_limit",
            Self::Bulkhead(_) => "bulkhead",
            Self::Timeout(_) => "timeout",
        }
    }

    /// Position in the recommended layering, outermost first.
    fn rank(&self) -> u8 {
        match self {
            Self::CircuitBreaker(_) => 0,
            Self::Retry(_) => 1,
            Self::Fallback(_) => 2,
            Self::RateLimit(_) => 3,
            Self::Bulkhead(_) => 4,
            Self::Timeout(_) => 5,
        }
    }
}

/// Policies composed around an operation. Cheap to clone; share it.
#[derive(Clone)]
pub struct Pipeline {
    pub(crate) layers: Arc<[Layer]>,
    /// Whether calls take the flat path (see `flat.rs`).
    flat: bool,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline").field("layers", &self.layer_names()).field("flat", &self.flat).finish()
    }
}

impl Pipeline {
    /// An empty builder.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The layers, outermost first.
    pub fn layer_names(&self) -> Vec<&'static str> {
        self.layers.iter().map(Layer::name).collect()
    }
}

/// Collects the layers of a [`Pipeline`].
#[derive(Default)]
pub struct PipelineBuilder {
    layers: Vec<Layer>,
    given_order: bool,
}

impl fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.layers.iter().map(Layer::name).collect();
        f.debug_struct("PipelineBuilder")
            .field("layers", &names)
            .field("given_order", &self.given_order)
            .finish()
    }
}

impl PipelineBuilder {
    /// Adds a circuit breaker layer: one outcome per call through the layers inside it.
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.layers.push(Layer::CircuitBreaker(breaker));
        self
    }

    /// Adds a retry layer waiting the delays of `backoff` (cloned per call) on tokio's timer.
    pub fn retry<B>(mut self, backoff: B) -> Self
    where
        B: Iterator<Item = Duration> + Clone + Send + Sync + 'static,
    {
        self.layers.push(Layer::Retry(Box::new(move || Box::new(backoff.clone()))));
        self
    }

    /// Adds a fallback layer for `resource` with the protocol's order for it.
    pub fn fallback(self, protocol: FallbackProtocol, resource: ResourceType) -> Self {
        let order = protocol.order_for(resource).to_vec();
        self.fallback_with(protocol, resource, order)
    }

    /// Adds a fallback layer for `resource` with a custom strategy order.
    pub fn fallback_with(
        mut self,
        protocol: FallbackProtocol,
        resource: ResourceType,
        order: impl IntoIterator<Item = FallbackStrategy>,
    ) -> Self {
        let order: Box<[FallbackStrategy]> = order.into_iter().collect();
        let lean = protocol.lean_possible(&order);
        self.layers.push(Layer::Fallback(FallbackStep { protocol, resource, order, lean }));
        self
    }

    /// Adds a rate limiter layer that refuses calls over the limit.
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.layers.push(Layer::RateLimit(limiter));
        self
    }

    /// Adds a bulkhead layer (waiting for a slot as the bulkhead is configured to).
    pub fn bulkhead(mut self, bulkhead: Bulkhead) -> Self {
        self.layers.push(Layer::Bulkhead(bulkhead));
        self
    }

    /// Adds a timeout layer bounding each call that passes through it.
    ///
    /// The limit runs from the call's first wait: a call answered at its first poll costs no
    /// clock read and no timer entry, and work done before the first wait (which no timer
    /// could interrupt) is not counted.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.layers.push(Layer::Timeout(limit));
        self
    }

    /// Keeps the layers in the order they were added (outermost first) instead of sorting them.
    pub fn in_given_order(mut self) -> Self {
        self.given_order = true;
        self
    }

    /// The pipeline.
    pub fn build(mut self) -> Pipeline {
        if !self.given_order {
            self.layers.sort_by_key(Layer::rank);
        }
        let flat = flat::runs_flat(&self.layers);
        Pipeline { layers: self.layers.into(), flat }
    }
}
