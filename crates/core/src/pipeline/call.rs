//! What travels down the layers: an attempt's fields, borrowed, so every layer's future stays
//! small; the operation gets an owned [`Attempt`] made from it at the bottom.

use crate::fallback::{Attempt, DegradeLevel, FallbackStrategy};
use crate::resource::Context;

/// An [`Attempt`] by reference: the context and provider are borrowed.
#[derive(Clone, Copy)]
pub(super) struct Call<'a> {
    pub(super) ctx: &'a Context,
    pub(super) number: u32,
    pub(super) strategy: Option<FallbackStrategy>,
    pub(super) provider: Option<&'a str>,
    pub(super) degrade: &'a DegradeLevel,
}

impl<'a> Call<'a> {
    /// The first call for `ctx`, with its model, at full quality (as [`Attempt::first`]).
    pub(super) fn first(ctx: &'a Context) -> Self {
        Self { ctx, number: 1, strategy: None, provider: ctx.model.as_deref(), degrade: &DegradeLevel::FULL }
    }

    /// The attempt a fallback layer made.
    pub(super) fn of(a: &'a Attempt) -> Self {
        let Attempt { number, strategy, ref provider, ref degrade, ref context } = *a;
        Self { ctx: context, number, strategy, provider: provider.as_deref(), degrade }
    }

    /// The owned attempt handed to the operation (inlined, so it is written where the
    /// operation's future keeps it).
    #[inline(always)]
    pub(super) fn attempt(self) -> Attempt {
        Attempt {
            number: self.number,
            strategy: self.strategy,
            provider: self.provider.map(str::to_owned),
            degrade: *self.degrade,
            context: self.ctx.clone(),
        }
    }
}
