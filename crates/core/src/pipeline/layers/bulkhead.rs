//! The bulkhead layer: the layers inside run holding one of the bulkhead's slots.

use super::super::error::PipelineError;
use super::super::run::{Level, Next, Op, Out, Step};
use crate::bulkhead::Bulkhead;
use crate::fallback::Attempt;

/// Takes a slot as [`Bulkhead::acquire_async`] does (waiting as configured, or shed; held by
/// borrowing the bulkhead, with no reference count), then runs the layers
/// inside; the slot is freed when they are done (or dropped, or panic).
pub(super) async fn step<L: Step<O::E>, O: Op, N: Level>(
    bulkhead: &Bulkhead,
    attempt: &Attempt,
    next: Next<'_, L, O, N>,
) -> Out<O> {
    let _slot = bulkhead.acquire_borrowed_async().await.map_err(PipelineError::Bulkhead)?;
    next.run(attempt).await
}
