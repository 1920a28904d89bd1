//! The rate limiter layer: refuses a call over the limit, at once.

use super::super::error::PipelineError;
use super::super::run::{Level, Next, Op, Out, Step};
use crate::fallback::Attempt;
use crate::rate_limit::RateLimiter;

/// Runs the layers inside if the limiter has room for one more call.
pub(super) async fn step<L: Step<O::E>, O: Op, N: Level>(
    limiter: &RateLimiter,
    attempt: &Attempt,
    next: Next<'_, L, O, N>,
) -> Out<O> {
    limiter.check().map_err(PipelineError::RateLimited)?;
    next.run(attempt).await
}
