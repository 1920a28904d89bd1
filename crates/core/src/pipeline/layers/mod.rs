//! The layers a pipeline can have: each one the policy itself, in a file of its own.
//!
//! A new kind of layer is a new file here with its step, and one variant of [`Layer`].

mod breaker;
mod bulkhead;
mod fallback;
mod rate_limit;
mod retry;
mod timeout;

use std::sync::Arc;

use super::run::{Level, Next, Op, Out, Step};
use crate::bulkhead::Bulkhead;
use crate::circuit_breaker::CircuitBreaker;
use crate::fallback::Attempt;
use crate::rate_limit::RateLimiter;
use crate::timeout::Timeout;

pub(crate) use fallback::FallbackStep;
pub use retry::PipelineRetry;
pub(crate) use retry::{RetryPolicy, into_layer as into_retry_layer};

/// One layer of a pipeline whose operation fails with `E`.
pub(crate) enum Layer<E> {
    CircuitBreaker(CircuitBreaker),
    Retry(Box<dyn RetryPolicy<E>>),
    Fallback(FallbackStep),
    RateLimit(Arc<RateLimiter>),
    Bulkhead(Bulkhead),
    Timeout(Timeout),
}

impl<E> Layer<E> {
    pub(crate) fn name(&self) -> &'static str {
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
    pub(crate) fn rank(&self) -> u8 {
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

impl<E: Send + 'static> Step<E> for Layer<E> {
    async fn step<O: Op<E = E>, N: Level>(&self, attempt: &Attempt, next: Next<'_, Self, O, N>) -> Out<O> {
        match self {
            Self::CircuitBreaker(cb) => breaker::step(cb, attempt, next).await,
            Self::Retry(retry) => retry::step(&**retry, attempt, next).await,
            Self::Fallback(fallback) => fallback::step(fallback, attempt, next).await,
            Self::RateLimit(limiter) => rate_limit::step(limiter, attempt, next).await,
            Self::Bulkhead(bulkhead) => bulkhead::step(bulkhead, attempt, next).await,
            Self::Timeout(timeout) => timeout::step(timeout, attempt, next).await,
        }
    }
}
