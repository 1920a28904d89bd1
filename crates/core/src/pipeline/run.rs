//! Running an operation through the layers, outermost first.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{Layer, Pipeline, PipelineError};
use crate::circuit_breaker::CircuitBreaker;
use crate::fallback::{Attempt, FallbackError, FallbackProtocol, FallbackRequest, FallbackStrategy, Outcome};
use crate::resource::{Context, ResourceType};

type Step<'a, T, E> = Pin<Box<dyn Future<Output = Result<T, PipelineError<E>>> + Send + 'a>>;

/// The operation a pipeline runs, with the bounds every layer needs stated once.
trait Op<'a>: Sync {
    /// The success value.
    type T: Send + 'a;
    /// The operation's own error.
    type E: fmt::Display + Send + 'a;
    /// One attempt.
    type Fut: Future<Output = Result<Self::T, Self::E>> + Send + 'a;

    fn run(&self, attempt: Attempt) -> Self::Fut;
}

impl<'a, T, E, F, Fut> Op<'a> for F
where
    T: Send + 'a,
    E: fmt::Display + Send + 'a,
    F: Fn(Attempt) -> Fut + Sync,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
{
    type T = T;
    type E = E;
    type Fut = Fut;

    fn run(&self, attempt: Attempt) -> Fut {
        self(attempt)
    }
}

impl Pipeline {
    /// Runs `op` through every layer. The operation receives an [`Attempt`] (provider and
    /// degrade knobs are set by a fallback layer, if there is one).
    pub async fn call<T, E, F, Fut>(&self, ctx: Context, op: F) -> Result<T, PipelineError<E>>
    where
        T: Send,
        E: fmt::Display + Send,
        F: Fn(Attempt) -> Fut + Sync,
        Fut: Future<Output = Result<T, E>> + Send,
    {
        self.step(0, &op, Attempt::first(ctx)).await
    }

    fn step<'a, O: Op<'a>>(&'a self, i: usize, op: &'a O, attempt: Attempt) -> Step<'a, O::T, O::E> {
        let Some(layer) = self.layers.get(i) else {
            return Box::pin(async move { op.run(attempt).await.map_err(PipelineError::Inner) });
        };
        match layer {
            Layer::CircuitBreaker(cb) => Box::pin(self.breaker(cb, i, op, attempt)),
            Layer::Retry(backoff) => Box::pin(self.retry(backoff(), i, op, attempt)),
            Layer::Fallback { protocol, resource, order } => {
                Box::pin(self.fallback(protocol, *resource, order.as_deref(), i, op, attempt))
            }
            Layer::RateLimit(limiter) => {
                let checked = limiter.check();
                Box::pin(async move {
                    checked.map_err(PipelineError::RateLimited)?;
                    self.step(i + 1, op, attempt).await
                })
            }
            Layer::Bulkhead(b) => Box::pin(async move {
                let _permit = b.acquire_async().await.map_err(PipelineError::Bulkhead)?;
                self.step(i + 1, op, attempt).await
            }),
            Layer::Timeout(limit) => Box::pin(async move {
                let inner = self.step(i + 1, op, attempt);
                tokio::time::timeout(*limit, inner).await.unwrap_or(Err(PipelineError::Timeout(*limit)))
            }),
        }
    }

    async fn breaker<'a, O: Op<'a>>(
        &'a self,
        cb: &'a CircuitBreaker,
        i: usize,
        op: &'a O,
        attempt: Attempt,
    ) -> Result<O::T, PipelineError<O::E>> {
        let permit = cb.try_acquire_owned().map_err(PipelineError::CircuitOpen)?;
        let result = self.step(i + 1, op, attempt).await;
        match &result {
            Ok(_) => permit.success(),
            Err(PipelineError::Queued(_)) => permit.ignore(),
            Err(_) => permit.failure(),
        }
        result
    }

    async fn retry<'a, O: Op<'a>>(
        &'a self,
        delays: Box<dyn Iterator<Item = Duration> + Send>,
        i: usize,
        op: &'a O,
        attempt: Attempt,
    ) -> Result<O::T, PipelineError<O::E>> {
        let mut delays = delays;
        let mut attempt = attempt;
        loop {
            let err = match self.step(i + 1, op, attempt.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(delay) = delays.next().filter(|_| err.is_retryable()) else { return Err(err) };
            tracing::debug!(attempt = attempt.number, ?delay, error = %err, "pipeline retry");
            tokio::time::sleep(delay).await;
            attempt.number += 1;
        }
    }

    async fn fallback<'a, O: Op<'a>>(
        &'a self,
        protocol: &'a FallbackProtocol,
        resource: ResourceType,
        order: Option<&'a [FallbackStrategy]>,
        i: usize,
        op: &'a O,
        attempt: Attempt,
    ) -> Result<O::T, PipelineError<O::E>> {
        let mut req = FallbackRequest::new(resource).context(attempt.context);
        if let Some(order) = order {
            req = req.strategies(order.iter().copied());
        }
        match protocol.execute(req, |a| self.step(i + 1, op, a)).await {
            Ok(Outcome::Value { value, .. }) => Ok(value),
            Ok(Outcome::Queued { ticket, .. }) => Err(PipelineError::Queued(ticket)),
            Err(FallbackError::Exhausted { last: Some(e), .. }) => Err(e),
            Err(other) => {
                let message = other.to_string();
                Err(PipelineError::Fallback { message, trace: Box::new(other.trace().clone()) })
            }
        }
    }
}
