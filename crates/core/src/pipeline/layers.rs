//! What each layer does around the step inside it (`next`).
//!
//! The steps are async blocks, not async fns: an async fn keeps its arguments twice in its
//! future (as given and as moved into its body), and these futures nest once per layer.
#![allow(clippy::manual_async_fn)]

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use super::call::Call;
use super::run::{Level, Next, Op, Out};
use super::{BackoffFactory, FallbackStep, PipelineError};
use crate::bulkhead::{BorrowedSlot, Bulkhead};
use crate::circuit_breaker::CircuitBreaker;
use crate::fallback::{Attempt, FallbackError, FallbackRequest, Outcome};

/// One outcome per call through the layers inside; a queued request is not counted.
pub(super) fn breaker<'a, O: Op, N: Level>(
    cb: &'a CircuitBreaker,
    call: &'a Call<'a>,
    next: &'a Next<'a, O, N>,
) -> impl Future<Output = Out<O>> + 'a {
    async move {
        let permit = cb.try_acquire().map_err(PipelineError::CircuitOpen)?;
        let result = next.run(*call).await;
        match &result {
            Ok(_) => permit.success(),
            Err(PipelineError::Queued(_)) => permit.ignore(),
            Err(_) => permit.failure(),
        }
        result
    }
}

/// A bulkhead slot when none was free at once: refused at once when the bulkhead may not be
/// waited on, else waited for (boxed, so the wait's size stays out of every pipeline's future).
/// The slot is held by borrowing the bulkhead (no reference count).
pub(super) async fn bulkhead_wait<E>(bulkhead: &Bulkhead) -> Result<BorrowedSlot<'_>, PipelineError<E>> {
    if bulkhead.max_wait().is_zero() {
        return Err(PipelineError::Bulkhead(bulkhead.shed()));
    }
    Box::pin(bulkhead.acquire_borrowed_async()).await.map_err(PipelineError::Bulkhead)
}

/// Tries again after retryable errors; the delays are made at the first retry.
pub(super) fn retry<'a, O: Op, N: Level>(
    backoff: &'a BackoffFactory,
    call: &'a Call<'a>,
    next: &'a Next<'a, O, N>,
) -> impl Future<Output = Out<O>> + 'a {
    async move {
        let mut number = call.number;
        let mut delays = None;
        loop {
            let err = match next.run(Call { number, ..*call }).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if !err.is_retryable() {
                return Err(err);
            }
            let Some(delay) = delays.get_or_insert_with(backoff).next() else { return Err(err) };
            tracing::debug!(attempt = number, ?delay, error = %err, "pipeline retry");
            tokio::time::sleep(delay).await;
            number += 1;
        }
    }
}

/// The fallback protocol around the steps inside, keeping the last error of the operation.
///
/// The primary call is made here when the protocol allows it; the protocol's engine (boxed, so
/// its size stays out of every pipeline's future) runs only when that call fails or cannot go.
pub(super) fn fallback<'a, O: Op, N: Level>(
    step: &'a FallbackStep,
    call: &'a Call<'a>,
    next: &'a Next<'a, O, N>,
) -> impl Future<Output = Out<O>> + 'a {
    async move {
        // Only `step`, `call` and `next` live across the primary call, besides the in-flight guard.
        let FallbackStep { protocol, resource, order, lean } = step;
        let op = move |a: Attempt| async move { next.run(Call::of(&a)).await };
        let started = if *lean { protocol.lean_start(call.ctx, *resource) } else { None };
        let Some((start, provider)) = started else {
            let req =
                FallbackRequest::new(*resource).context(call.ctx.clone()).strategies(order.iter().copied());
            return answer(Box::pin(protocol.execute(req, op)).await);
        };
        let failed = match next.run(Call { provider, ..Call::first(call.ctx) }).await {
            Ok(value) => {
                step.protocol.lean_served(start, step.resource);
                return Ok(value);
            }
            Err(e) => e,
        };
        let FallbackStep { protocol, resource, order, .. } = step;
        let req = FallbackRequest::new(*resource).context(call.ctx.clone());
        answer(Box::pin(protocol.resume_lean(start, req, order, failed, op)).await)
    }
}

fn answer<T, E: fmt::Display>(
    finished: Result<Outcome<T>, FallbackError<PipelineError<E>>>,
) -> Result<T, PipelineError<E>> {
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

/// Bounds the step inside to `limit` from its first wait: a step ready at its first poll never
/// reads the clock nor touches the timer (made, boxed, at the first wait).
pub(super) fn timeout<'a, O: Op, N: Level>(
    limit: Duration,
    call: &'a Call<'a>,
    next: &'a Next<'a, O, N>,
) -> impl Future<Output = Out<O>> + 'a {
    async move {
        let mut inner = pin!(next.run(*call));
        if let Poll::Ready(out) = poll_fn(|cx| Poll::Ready(inner.as_mut().poll(cx))).await {
            return out;
        }
        // The timer is boxed: kept inline it would sit in every layer's future, timeout or not.
        let mut timer = Box::pin(tokio::time::sleep(limit));
        poll_fn(|cx| match inner.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(out),
            Poll::Pending => timer.as_mut().poll(cx).map(|()| Err(PipelineError::Timeout(limit))),
        })
        .await
    }
}
