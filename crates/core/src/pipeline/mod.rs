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
//! Each layer is the policy itself, run as it runs alone: the breaker layer takes a
//! [`CircuitBreaker`] permit, the retry layer is a [`Retry`](crate::Retry) (predicate, attempt
//! and time limits, budget, Retry-After hints, notify), the fallback layer calls
//! [`FallbackProtocol::answer`], the bulkhead layer [`Bulkhead::call_async`], the timeout layer
//! [`Timeout::call_async`](crate::Timeout::call_async) (its limit runs from the call's start).
//! A pipeline behaves as the same policies nested by hand.
//!
//! # Cost
//!
//! A call is one future, each layer's step nested in the one around it, with no heap
//! allocation while every layer lets it through and the context is empty (up to six layers;
//! past that each step is boxed). Work that only a refusal or a failure needs is boxed: a retry
//! layer's delays and waits, a fallback protocol's strategies. The operation gets an owned
//! [`Attempt`](crate::Attempt), cloned from the call's: a context with a model or tags costs one
//! allocation per string and per tag map for each attempt, and so does a provider's name set
//! by a fallback layer.
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

mod error;
mod layers;
mod run;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use error::PipelineError;
pub use layers::PipelineRetry;

use crate::bulkhead::Bulkhead;
use crate::circuit_breaker::CircuitBreaker;
use crate::fallback::{Attempt, FallbackProtocol, FallbackStrategy};
use crate::rate_limit::RateLimiter;
use crate::resource::{Context, ResourceType};
use crate::timeout::Timeout;
use layers::{FallbackStep, Layer};

/// Policies composed around an operation that fails with `E`. Cheap to clone; share it.
pub struct Pipeline<E> {
    layers: Arc<[Layer<E>]>,
}

impl<E> Clone for Pipeline<E> {
    fn clone(&self) -> Self {
        Self { layers: self.layers.clone() }
    }
}

impl<E> fmt::Debug for Pipeline<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline").field("layers", &self.layer_names()).finish()
    }
}

impl<E> Pipeline<E> {
    /// An empty builder.
    pub fn builder() -> PipelineBuilder<E> {
        PipelineBuilder { layers: Vec::new(), given_order: false }
    }

    /// The layers, outermost first.
    pub fn layer_names(&self) -> Vec<&'static str> {
        self.layers.iter().map(Layer::name).collect()
    }
}

impl<E: fmt::Display + Send + 'static> Pipeline<E> {
    /// Runs `op` through every layer. The operation receives an [`Attempt`]: its number counts
    /// the retries of a retry layer; its provider and degrade knobs are set by a fallback layer.
    pub fn call<T, F, Fut>(&self, ctx: Context, op: F) -> impl Future<Output = Result<T, PipelineError<E>>>
    where
        T: Send,
        F: Fn(Attempt) -> Fut + Sync,
        Fut: Future<Output = Result<T, E>> + Send,
    {
        let layers = &*self.layers;
        async move {
            let attempt = Attempt::first(ctx);
            run::run(layers, &op, &attempt).await
        }
    }
}

/// Collects the layers of a [`Pipeline`].
pub struct PipelineBuilder<E> {
    layers: Vec<Layer<E>>,
    given_order: bool,
}

impl<E> fmt::Debug for PipelineBuilder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.layers.iter().map(Layer::name).collect();
        f.debug_struct("PipelineBuilder")
            .field("layers", &names)
            .field("given_order", &self.given_order)
            .finish()
    }
}

impl<E: 'static> PipelineBuilder<E> {
    fn with(mut self, layer: Layer<E>) -> Self {
        self.layers.push(layer);
        self
    }

    /// Adds a circuit breaker layer: one outcome per call through the layers inside it (a
    /// queued request is not counted).
    pub fn circuit_breaker(self, breaker: CircuitBreaker) -> Self {
        self.with(Layer::CircuitBreaker(breaker))
    }

    /// Adds a retry layer: a [`Retry`](crate::Retry), or a bare backoff schedule (as
    /// `Retry::new(backoff)`), waiting on tokio's timer unless the policy has its own sleeper.
    ///
    /// Operation errors, timeouts, full bulkheads and rate-limit refusals inside the layer are
    /// retried as the policy decides; an open breaker inside, a queued request and a fallback
    /// that gave up are not.
    ///
    /// ```
    /// use elf_resilience_core::{FixedDelay, Pipeline, PipelineError, Retry};
    /// use std::time::Duration;
    ///
    /// let retry = Retry::new(FixedDelay::new().with_max_retries(3))
    ///     .retry_if(|e: &PipelineError<String>| !matches!(e, PipelineError::Inner(m) if m == "bad request"));
    /// let pipeline = Pipeline::<String>::builder().retry(retry).timeout(Duration::from_secs(5)).build();
    /// assert_eq!(pipeline.layer_names(), ["retry", "timeout"]);
    /// ```
    pub fn retry(self, retry: impl PipelineRetry<E>) -> Self {
        self.with(Layer::Retry(layers::into_retry_layer(retry)))
    }

    /// Adds a fallback layer for `resource` with the protocol's order for it.
    pub fn fallback(self, protocol: FallbackProtocol, resource: ResourceType) -> Self {
        let order = protocol.order_for(resource).to_vec();
        self.fallback_with(protocol, resource, order)
    }

    /// Adds a fallback layer for `resource` with a custom strategy order.
    pub fn fallback_with(
        self,
        protocol: FallbackProtocol,
        resource: ResourceType,
        order: impl IntoIterator<Item = FallbackStrategy>,
    ) -> Self {
        let order = order.into_iter().collect();
        self.with(Layer::Fallback(FallbackStep { protocol, resource, order }))
    }

    /// Adds a rate limiter layer that refuses calls over the limit.
    pub fn rate_limiter(self, limiter: Arc<RateLimiter>) -> Self {
        self.with(Layer::RateLimit(limiter))
    }

    /// Adds a bulkhead layer (waiting for a slot as the bulkhead is configured to).
    pub fn bulkhead(self, bulkhead: Bulkhead) -> Self {
        self.with(Layer::Bulkhead(bulkhead))
    }

    /// Adds a timeout layer bounding each call through it, from the moment it reaches the
    /// layer, as [`Timeout::call_async`](crate::Timeout::call_async) does.
    pub fn timeout(self, limit: Duration) -> Self {
        self.with(Layer::Timeout(Timeout::new(limit)))
    }

    /// Keeps the layers in the order they were added (outermost first) instead of sorting them.
    pub fn in_given_order(mut self) -> Self {
        self.given_order = true;
        self
    }

    /// The pipeline.
    pub fn build(mut self) -> Pipeline<E> {
        if !self.given_order {
            self.layers.sort_by_key(Layer::rank);
        }
        Pipeline { layers: self.layers.into() }
    }
}
