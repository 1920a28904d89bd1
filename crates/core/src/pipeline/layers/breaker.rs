//! The circuit breaker layer: one outcome per call through the layers inside it.

use super::super::error::PipelineError;
use super::super::run::{Level, Next, Op, Out, Step};
use crate::circuit_breaker::{CircuitBreaker, CircuitPermit};
use crate::fallback::Attempt;

/// Admits the call, runs the layers inside, and reports their result: a success, a failure,
/// or nothing for a queued request. A panic inside drops the permit, which counts a failure.
pub(super) async fn step<L: Step<O::E>, O: Op, N: Level>(
    cb: &CircuitBreaker,
    attempt: &Attempt,
    next: Next<'_, L, O, N>,
) -> Out<O> {
    let permit = cb.try_acquire().map_err(PipelineError::CircuitOpen)?;
    let out = next.run(attempt).await;
    report(permit, &out);
    out
}

fn report<T, E>(permit: CircuitPermit<'_>, out: &Result<T, PipelineError<E>>) {
    match out {
        Ok(_) => permit.success(),
        Err(PipelineError::Queued(_)) => permit.ignore(),
        Err(_) => permit.failure(),
    }
}
