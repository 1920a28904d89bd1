//! The fallback layer: a [`FallbackProtocol`] around the layers inside it, through its public
//! [`answer`](FallbackProtocol::answer).

use std::fmt;

use super::super::error::PipelineError;
use super::super::run::{Level, Next, Op, Out, Step};
use crate::fallback::{Answer, Attempt, FallbackError, FallbackProtocol, FallbackStrategy};
use crate::resource::ResourceType;

/// A fallback layer's step: the protocol, the resource it guards and its strategy order.
pub(crate) struct FallbackStep {
    pub(crate) protocol: FallbackProtocol,
    pub(crate) resource: ResourceType,
    pub(crate) order: Box<[FallbackStrategy]>,
}

/// Runs the layers inside as the protocol's operation: once for the primary call, and again
/// for each strategy that calls it (another provider, a degraded level, a retry).
pub(super) async fn step<L: Step<O::E>, O: Op, N: Level>(
    layer: &FallbackStep,
    attempt: &Attempt,
    next: Next<'_, L, O, N>,
) -> Out<O> {
    let FallbackStep { protocol, resource, order } = layer;
    let inside = move |a: Attempt| async move { next.run(&a).await };
    into_out(protocol.answer(&attempt.context, *resource, order, inside).await)
}

/// The pipeline's view of the protocol's answer: a queued request and a protocol that gave up
/// without an operation error are refusals; the operation's last error is passed on as it is.
fn into_out<T, E: fmt::Display>(
    answer: Result<Answer<T>, FallbackError<PipelineError<E>>>,
) -> Result<T, PipelineError<E>> {
    match answer {
        Ok(Answer::Value(value)) => Ok(value),
        Ok(Answer::Queued(ticket)) => Err(PipelineError::Queued(ticket)),
        Err(FallbackError::Exhausted { last: Some(e), .. }) => Err(e),
        Err(other) => {
            let message = other.to_string();
            Err(PipelineError::Fallback { message, trace: Box::new(other.trace().clone()) })
        }
    }
}
