//! What each layer does around the step inside it (`next`).

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use super::{BackoffFactory, FallbackStep, PipelineError};
use crate::circuit_breaker::CircuitBreaker;
use crate::fallback::{Attempt, FallbackError, FallbackRequest, Outcome};

type Out<T, E> = Result<T, PipelineError<E>>;

/// One outcome per call through the layers inside; a queued request is not counted.
pub(super) async fn breaker<T, E, Fut>(
    cb: &CircuitBreaker,
    attempt: Attempt,
    next: impl FnOnce(Attempt) -> Fut,
) -> Out<T, E>
where
    Fut: Future<Output = Out<T, E>>,
{
    let permit = cb.try_acquire().map_err(PipelineError::CircuitOpen)?;
    let result = next(attempt).await;
    match &result {
        Ok(_) => permit.success(),
        Err(PipelineError::Queued(_)) => permit.ignore(),
        Err(_) => permit.failure(),
    }
    result
}

/// Tries again after retryable errors; the delays are made at the first retry.
pub(super) async fn retry<T, E, Fut>(
    backoff: &BackoffFactory,
    attempt: Attempt,
    next: impl Fn(Attempt) -> Fut,
) -> Out<T, E>
where
    E: fmt::Display,
    Fut: Future<Output = Out<T, E>>,
{
    let mut attempt = attempt;
    let mut delays = None;
    loop {
        let err = match next(attempt.clone()).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !err.is_retryable() {
            return Err(err);
        }
        let Some(delay) = delays.get_or_insert_with(backoff).next() else { return Err(err) };
        tracing::debug!(attempt = attempt.number, ?delay, error = %err, "pipeline retry");
        tokio::time::sleep(delay).await;
        attempt.number += 1;
    }
}

/// The fallback protocol around the steps inside, keeping the last error of the operation.
///
/// The primary call is made here when the protocol allows it; the protocol's engine (boxed, so
/// its size stays out of every pipeline's future) runs only when that call fails or cannot go.
pub(super) async fn fallback<T, E, Fut>(
    step: &FallbackStep,
    attempt: Attempt,
    next: impl Fn(Attempt) -> Fut,
) -> Out<T, E>
where
    E: fmt::Display,
    Fut: Future<Output = Out<T, E>>,
{
    let FallbackStep { protocol, resource, order } = step;
    let ctx = attempt.context;
    let Some((start, primary)) = protocol.lean_start(&ctx, *resource, order) else {
        let req = FallbackRequest::new(*resource).context(ctx).strategies(order.iter().copied());
        return answer(Box::pin(protocol.execute(req, next)).await);
    };
    let failed = match next(primary).await {
        Ok(value) => {
            protocol.lean_served(start, *resource);
            return Ok(value);
        }
        Err(e) => e,
    };
    let req = FallbackRequest::new(*resource).context(ctx);
    answer(Box::pin(protocol.resume_lean(start, req, order, failed, next)).await)
}

fn answer<T, E: fmt::Display>(finished: Result<Outcome<T>, FallbackError<PipelineError<E>>>) -> Out<T, E> {
    match finished {
        Ok(Outcome::Value { value, .. }) => Ok(value),
        Ok(Outcome::Queued { ticket, .. }) => Err(PipelineError::Queued(ticket)),
        Err(FallbackError::Exhausted { last: Some(e), .. }) => Err(e),
        Err(other) => {
            let message = other.to_string();
            Err(PipelineError::Fallback { message, trace: Box::new(other.trace().clone()) })
        }
    }
}

/// Bounds the step `next` makes to `limit` from now. A step ready at its first poll never
/// touches the timer.
pub(super) async fn timeout<T, E, Fut>(
    limit: Duration,
    attempt: Attempt,
    next: impl FnOnce(Attempt) -> Fut,
) -> Out<T, E>
where
    Fut: Future<Output = Out<T, E>>,
{
    let start = tokio::time::Instant::now();
    let mut inner = pin!(next(attempt));
    if let Poll::Ready(out) = poll_fn(|cx| Poll::Ready(inner.as_mut().poll(cx))).await {
        return out;
    }
    tokio::time::timeout_at(start + limit, inner).await.unwrap_or(Err(PipelineError::Timeout(limit)))
}
