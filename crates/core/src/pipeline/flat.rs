//! The usual call through a pipeline, without one nested future per layer.
//!
//! Most calls pass every layer: the breaker admits, the fallback's gate is not pressured, a
//! bulkhead slot is free, the operation answers in time. For a pipeline whose timeout (if it has
//! one) is its innermost layer, a call takes each layer's admission in turn, outermost first,
//! runs the operation once, and then reports the result to each layer it passed, innermost
//! first: two loops instead of a nesting of futures. When a layer refuses, or the operation
//! fails, the layers outside it go on as they would in the nested run (a retry layer retries, a
//! fallback layer falls back), running the layers inside them nested and boxed, as the rare path
//! they are.

use std::future::Future;
use std::pin::pin;

use super::call::Call;
use super::run::{Deep, Next, Op, Slot, UNBOXED};
use super::{FallbackStep, Layer, Pipeline, PipelineError, layers};
use crate::bulkhead::{BorrowedSlot, Bulkhead};
use crate::circuit_breaker::CircuitPermit;
use crate::fallback::LeanStart;
use crate::resource::Context;

/// What the layers hold for the call they admitted: at most one breaker permit, one fallback
/// start and one bulkhead slot (a pipeline with more of a kind runs nested).
#[derive(Default)]
struct Held<'a> {
    permit: Option<CircuitPermit<'a>>,
    /// The fallback layer's start, with the layer (told when the call is served).
    lean: Option<(LeanStart<'a>, &'a FallbackStep)>,
    slot: Option<BorrowedSlot<'a>>,
}

/// Whether calls through `layers` can run flat: at most [`UNBOXED`] layers, a timeout only as
/// the innermost one, fallback layers whose primary call may be made directly, and at most one
/// breaker, fallback and bulkhead layer.
pub(super) fn runs_flat(layers: &[Layer]) -> bool {
    let inner = layers.len().saturating_sub(1);
    let count = |kind: fn(&Layer) -> bool| layers.iter().filter(|l| kind(l)).count();
    layers.len() <= UNBOXED
        && count(|l| matches!(l, Layer::CircuitBreaker(_))) <= 1
        && count(|l| matches!(l, Layer::Fallback(_))) <= 1
        && count(|l| matches!(l, Layer::Bulkhead(_))) <= 1
        && layers.iter().enumerate().all(|(i, layer)| match layer {
            Layer::Timeout(_) => i == inner,
            Layer::Fallback(step) => step.lean,
            _ => true,
        })
}

/// How far a call's admissions went.
enum Admission<'a, E> {
    /// Every layer admitted it.
    All,
    /// Layer `.0` refused it.
    Refused(usize, PipelineError<E>),
    /// Layer `.0`'s fallback protocol must run the call (its primary is pressured).
    Engine(usize, &'a FallbackStep),
    /// Layer `.0`'s bulkhead is full.
    Full(usize, &'a Bulkhead),
}

/// Takes each layer's admission from layer `from` on, until one does not simply admit.
fn admit<'a, E>(
    p: &'a Pipeline,
    from: usize,
    ctx: &'a Context,
    held: &mut Held<'a>,
    call: &mut Call<'a>,
) -> Admission<'a, E> {
    for (i, layer) in p.layers.iter().enumerate().skip(from) {
        match layer {
            Layer::CircuitBreaker(cb) => match cb.try_acquire() {
                Ok(permit) => held.permit = Some(permit),
                Err(open) => return Admission::Refused(i, PipelineError::CircuitOpen(open)),
            },
            Layer::Retry(_) | Layer::Timeout(_) => {}
            Layer::Fallback(step) => match step.protocol.lean_start(ctx, step.resource) {
                Some((start, provider)) => {
                    held.lean = Some((start, step));
                    *call = Call { provider, ..Call::first(ctx) };
                }
                None => return Admission::Engine(i, step),
            },
            Layer::RateLimit(limiter) => {
                if let Err(e) = limiter.check() {
                    return Admission::Refused(i, PipelineError::RateLimited(e));
                }
            }
            Layer::Bulkhead(bulkhead) => match bulkhead.try_borrow() {
                Some(slot) => held.slot = Some(slot),
                None => return Admission::Full(i, bulkhead),
            },
        }
    }
    Admission::All
}

/// Runs a call for `ctx` through `p`: flat if `p` [`runs_flat`], else nested (boxed).
///
/// The whole flat call is this one future: every wait that only a refusal or failure needs is
/// boxed, so the future holds little more than the context and the operation's future.
#[allow(clippy::manual_async_fn)] // an async fn would keep the context and operation twice
pub(super) fn call<O: Op>(
    p: &Pipeline,
    owned: Context,
    op: O,
) -> impl Future<Output = Result<O::T, PipelineError<O::E>>> {
    async move {
        let result = {
            let (ctx, op, mut out) = (&owned, &op, None);
            if !p.flat {
                Box::pin(p.nested(ctx, op, &mut out)).await;
                return out.expect("the outermost step leaves the call's result");
            }
            let (mut held, mut call, mut from) = (Held::default(), Call::first(ctx), 0);
            let passed = loop {
                match admit(p, from, ctx, &mut held, &mut call) {
                    Admission::All => break p.layers.len(),
                    Admission::Refused(i, e) => {
                        out = Some(Err(e));
                        break i;
                    }
                    // The layer's engine runs the call, with the layers inside it nested.
                    Admission::Engine(i, step) => {
                        let inner = Next::<O, Deep>::at(p, i + 1, op);
                        Box::pin(layers::fallback_engine(step, &call, &inner, &mut out)).await;
                        break i;
                    }
                    Admission::Full(i, bulkhead) => match Box::pin(layers::bulkhead_wait(bulkhead)).await {
                        Ok(slot) => (held.slot, from) = (Some(slot), i + 1),
                        Err(e) => {
                            out = Some(Err(e));
                            break i;
                        }
                    },
                }
            };
            if passed == p.layers.len() {
                let fut = pin!(op.run(call.attempt()));
                let result = match p.layers.last() {
                    Some(Layer::Timeout(limit)) => match layers::within(*limit, fut).await {
                        Some(result) => result.map_err(PipelineError::Inner),
                        None => Err(PipelineError::Timeout(*limit)),
                    },
                    _ => fut.await.map_err(PipelineError::Inner),
                };
                out = Some(result);
            }
            if let Some(Ok(_)) = out {
                served(held);
            } else {
                for i in (0..passed).rev() {
                    Box::pin(failed(p, i, op, &mut held, ctx, &mut out)).await;
                }
            }
            out.expect("the operation or a layer leaves the call's result")
        };
        let Context { tags, .. } = owned;
        // An empty map owns no memory, and dropping it would still walk it.
        if tags.is_empty() {
            std::mem::forget(tags);
        }
        result
    }
}

/// Every layer hears that the call was served.
fn served(held: Held<'_>) {
    drop(held.slot);
    if let Some((start, step)) = held.lean {
        step.protocol.lean_served(start, step.resource);
    }
    if let Some(permit) = held.permit {
        permit.success();
    }
}

/// Layer `i` hears that the call failed (or was queued, or refused inside it); a retry or
/// fallback layer goes on from there, with the layers inside it run nested.
async fn failed<'a, O: Op>(
    p: &'a Pipeline,
    i: usize,
    op: &'a O,
    held: &mut Held<'a>,
    ctx: &'a Context,
    out: &mut Slot<O>,
) {
    let inner = Next::<O, Deep>::at(p, i + 1, op);
    match &p.layers[i] {
        Layer::Bulkhead(_) => held.slot = None,
        Layer::CircuitBreaker(_) => {
            if let Some(permit) = held.permit.take() {
                layers::settle(permit, out);
            }
        }
        Layer::Fallback(step) => {
            // The only fallback layer: no other set the call's provider.
            let Some((start, _)) = held.lean.take() else { return };
            Box::pin(layers::fallback_rest(step, &Call::first(ctx), &inner, start, out)).await
        }
        Layer::Retry(backoff) => {
            // A fallback layer still held is around this one, and set the call's provider.
            let call = match &held.lean {
                Some((start, _)) => Call { provider: start.provider, ..Call::first(ctx) },
                None => Call::first(ctx),
            };
            Box::pin(layers::retry_rest(backoff, &call, &inner, out)).await
        }
        Layer::RateLimit(_) | Layer::Timeout(_) => {}
    }
}
