//! What each layer does around the step inside it (`next`), leaving the result in `out`.
//!
//! The steps are async blocks, not async fns: an async fn keeps its arguments twice in its
//! future (as given and as moved into its body), and these futures nest once per layer.
#![allow(clippy::manual_async_fn)]

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use super::call::Call;
use super::run::{Level, Next, Op, Slot};
use super::{BackoffFactory, FallbackStep, PipelineError};
use crate::bulkhead::{BorrowedSlot, Bulkhead};
use crate::circuit_breaker::{CircuitBreaker, CircuitPermit};
use crate::fallback::{Attempt, FallbackError, FallbackRequest, LeanStart, Outcome};

/// One outcome per call through the layers inside; a queued request is not counted.
pub(super) fn breaker<'a, O: Op, N: Level>(
    cb: &'a CircuitBreaker,
    call: &'a Call<'a>,
    next: &'a Next<'a, O, N>,
    out: &'a mut Slot<O>,
) -> impl Future<Output = ()> + 'a {
    async move {
        let permit = match cb.try_acquire() {
            Ok(permit) => permit,
            Err(open) => return *out = Some(Err(PipelineError::CircuitOpen(open))),
        };
        next.run(*call, out).await;
        settle(permit, out);
    }
}

/// Reports the result in `out` to a breaker: a success, a failure, or nothing for a queued
/// request.
pub(super) fn settle<T, E>(permit: CircuitPermit<'_>, out: &Option<Result<T, PipelineError<E>>>) {
    match out {
        Some(Ok(_)) => permit.success(),
        Some(Err(PipelineError::Queued(_))) => permit.ignore(),
        _ => permit.failure(),
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
    out: &'a mut Slot<O>,
) -> impl Future<Output = ()> + 'a {
    async move {
        next.run(*call, out).await;
        retry_rest(backoff, call, next, out).await
    }
}

/// A retry layer's work once the step inside has run for `call` (its result in `out`): tries
/// again while the error is retryable and the delays last.
pub(super) async fn retry_rest<O: Op, N: Level>(
    backoff: &BackoffFactory,
    call: &Call<'_>,
    next: &Next<'_, O, N>,
    out: &mut Slot<O>,
) {
    let mut number = call.number;
    let mut delays = None;
    loop {
        // The error is looked at where it lies, and not held over the wait.
        let delay = match &*out {
            Some(Err(err)) if err.is_retryable() => match delays.get_or_insert_with(backoff).next() {
                Some(delay) => {
                    tracing::debug!(attempt = number, ?delay, error = %err, "pipeline retry");
                    delay
                }
                None => return,
            },
            _ => return,
        };
        tokio::time::sleep(delay).await;
        number += 1;
        next.run(Call { number, ..*call }, out).await;
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
    out: &'a mut Slot<O>,
) -> impl Future<Output = ()> + 'a {
    async move {
        // Only `step`, `call`, `next` and `out` live across the primary call, besides the
        // in-flight guard.
        let started = if step.lean { step.protocol.lean_start(call.ctx, step.resource) } else { None };
        let Some((start, provider)) = started else {
            return fallback_engine(step, call, next, out).await;
        };
        next.run(Call { provider, ..Call::first(call.ctx) }, out).await;
        fallback_rest(step, call, next, start, out).await
    }
}

/// A fallback layer whose primary call cannot be made directly: the protocol's engine makes
/// every call.
pub(super) async fn fallback_engine<O: Op, N: Level>(
    step: &FallbackStep,
    call: &Call<'_>,
    next: &Next<'_, O, N>,
    out: &mut Slot<O>,
) {
    let FallbackStep { protocol, resource, order, .. } = step;
    let op = move |a: Attempt| async move { next.yields(Call::of(&a)).await };
    let req = FallbackRequest::new(*resource).context(call.ctx.clone()).strategies(order.iter().copied());
    *out = Some(answer(Box::pin(protocol.execute(req, op)).await));
}

/// A fallback layer's work once its primary call (started by `start`) has run, its result in
/// `out`: served, or the strategies follow.
pub(super) async fn fallback_rest<'p, O: Op, N: Level>(
    step: &'p FallbackStep,
    call: &Call<'p>,
    next: &Next<'_, O, N>,
    start: LeanStart<'p>,
    out: &mut Slot<O>,
) {
    let failed = match out.take() {
        Some(Err(e)) => e,
        done => {
            *out = done;
            return step.protocol.lean_served(start, step.resource);
        }
    };
    let FallbackStep { protocol, resource, order, .. } = step;
    let op = move |a: Attempt| async move { next.yields(Call::of(&a)).await };
    let req = FallbackRequest::new(*resource).context(call.ctx.clone());
    *out = Some(answer(Box::pin(protocol.resume_lean(start, req, order, failed, op)).await));
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

/// Bounds the step inside to `limit` from its first wait (see [`within`]).
pub(super) fn timeout<'a, O: Op, N: Level>(
    limit: Duration,
    call: &'a Call<'a>,
    next: &'a Next<'a, O, N>,
    out: &'a mut Slot<O>,
) -> impl Future<Output = ()> + 'a {
    async move {
        let in_time = within(limit, pin!(next.run(*call, &mut *out))).await.is_some();
        if !in_time {
            *out = Some(Err(PipelineError::Timeout(limit)));
        }
    }
}

/// Runs `fut` for at most `limit` from its first wait: `None` if the limit passed first. A
/// future ready at its first poll never reads the clock nor touches a timer; the timer is made
/// at the first wait, boxed (kept inline it would sit in every layer's future, timeout or not).
pub(super) fn within<'f, F: Future>(
    limit: Duration,
    mut fut: Pin<&'f mut F>,
) -> impl Future<Output = Option<F::Output>> + 'f {
    async move {
        if let Poll::Ready(done) = poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await {
            return Some(done);
        }
        let mut timer = Box::pin(tokio::time::sleep(limit));
        poll_fn(|cx| match fut.as_mut().poll(cx) {
            Poll::Ready(done) => Poll::Ready(Some(done)),
            Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
        })
        .await
    }
}
