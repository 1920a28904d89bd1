//! The timeout layer: the layers inside bounded by a [`Timeout`], from the call's start.

use std::convert::Infallible;

use super::super::error::PipelineError;
use super::super::run::{Level, Next, Op, Out, Step};
use crate::fallback::Attempt;
use crate::timeout::{Timeout, TimeoutError};

/// Runs the layers inside through [`Timeout::call_async`].
pub(super) async fn step<L: Step<O::E>, O: Op, N: Level>(
    timeout: &Timeout,
    attempt: &Attempt,
    next: Next<'_, L, O, N>,
) -> Out<O> {
    let inside = async { Ok::<_, Infallible>(next.run(attempt).await) };
    match timeout.call_async(inside).await {
        Ok(out) => out,
        Err(TimeoutError::Elapsed(after)) => Err(PipelineError::Timeout(after)),
        Err(TimeoutError::Inner(never)) => match never {},
    }
}
