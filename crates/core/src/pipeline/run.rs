//! The one engine: an operation run through the layers nested, outermost first.
//!
//! Each layer's step is a future of its own type, nested inside the step of the layer around
//! it: the depths are types ([`Level`]), so a whole call is one future, allocated nowhere, for
//! pipelines of up to [`UNBOXED`] layers. Past that, each step is boxed.
//!
//! The engine knows nothing of the layers: it runs any [`Step`], and the operation past the last.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use super::error::PipelineError;
use crate::fallback::Attempt;

/// How many layers run without boxing.
pub(super) const UNBOXED: usize = 6;

/// The operation a pipeline runs, with the bounds every layer needs stated once.
pub(super) trait Op: Sync {
    /// The success value.
    type T: Send;
    /// The operation's own error.
    type E: fmt::Display + Send;
    /// One attempt.
    type Fut: Future<Output = Result<Self::T, Self::E>> + Send;

    fn run(&self, attempt: Attempt) -> Self::Fut;
}

impl<T, E, F, Fut> Op for F
where
    T: Send,
    E: fmt::Display + Send,
    F: Fn(Attempt) -> Fut + Sync,
    Fut: Future<Output = Result<T, E>> + Send,
{
    type T = T;
    type E = E;
    type Fut = Fut;

    fn run(&self, attempt: Attempt) -> Fut {
        self(attempt)
    }
}

/// What a step yields.
pub(super) type Out<O> = Result<<O as Op>::T, PipelineError<<O as Op>::E>>;

/// One layer: what it does around the steps inside it (`next`).
pub(super) trait Step<E>: Sync + Sized {
    fn step<'a, O: Op<E = E>, N: Level>(
        &'a self,
        attempt: &'a Attempt,
        next: Next<'a, Self, O, N>,
    ) -> impl Future<Output = Out<O>> + Send + 'a;
}

/// The steps inside a layer: the layers below it, then the operation.
pub(super) struct Next<'a, L, O, N> {
    layers: &'a [L],
    op: &'a O,
    level: PhantomData<N>,
}

impl<L, O, N> Clone for Next<'_, L, O, N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L, O, N> Copy for Next<'_, L, O, N> {}

impl<'a, L: Step<O::E>, O: Op, N: Level> Next<'a, L, O, N> {
    /// Runs the layers inside, then the operation, for `attempt` (which may live shorter).
    pub(super) fn run<'b>(self, attempt: &'b Attempt) -> impl Future<Output = Out<O>> + Send + 'b
    where
        'a: 'b,
    {
        N::step(self.layers, self.op, attempt)
    }
}

/// A depth in the pipeline: its step runs the first of `layers` with the next depth inside.
pub(super) trait Level: Send + Sync + 'static {
    fn step<'a, L: Step<O::E>, O: Op>(
        layers: &'a [L],
        op: &'a O,
        attempt: &'a Attempt,
    ) -> impl Future<Output = Out<O>> + Send + 'a;
}

/// The step of the first of `layers` with depth `N` inside (or the operation, if none is left).
async fn first<L: Step<O::E>, O: Op, N: Level>(layers: &[L], op: &O, attempt: &Attempt) -> Out<O> {
    match layers.split_first() {
        None => op.run(attempt.clone()).await.map_err(PipelineError::Inner),
        Some((layer, inner)) => {
            layer.step(attempt, Next::<L, O, N> { layers: inner, op, level: PhantomData }).await
        }
    }
}

macro_rules! levels {
    ($($level:ident => $next:ident),* $(,)?) => {$(
        pub(super) struct $level;

        impl Level for $level {
            fn step<'a, L: Step<O::E>, O: Op>(
                layers: &'a [L],
                op: &'a O,
                attempt: &'a Attempt,
            ) -> impl Future<Output = Out<O>> + Send + 'a {
                first::<L, O, $next>(layers, op, attempt)
            }
        }
    )*};
}

// One level per layer, and one for the operation itself.
levels! { L0 => L1, L1 => L2, L2 => L3, L3 => L4, L4 => L5, L5 => L6, L6 => Deep }
const _: () = assert!(UNBOXED == 6, "one level per unboxed layer, plus the operation's");

/// Past [`UNBOXED`] layers: each step is boxed, which ends the nesting of types.
pub(super) struct Deep;

impl Level for Deep {
    fn step<'a, L: Step<O::E>, O: Op>(
        layers: &'a [L],
        op: &'a O,
        attempt: &'a Attempt,
    ) -> impl Future<Output = Out<O>> + Send + 'a {
        Box::pin(first::<L, O, Deep>(layers, op, attempt))
    }
}

/// Runs `op` for `attempt` through every one of `layers`, outermost first; the fewer the
/// layers, the shallower the future that is made.
pub(super) async fn run<L: Step<O::E>, O: Op>(layers: &[L], op: &O, attempt: &Attempt) -> Out<O> {
    match layers.len() {
        0 => L6::step(layers, op, attempt).await,
        1 => L5::step(layers, op, attempt).await,
        2 => L4::step(layers, op, attempt).await,
        3 => L3::step(layers, op, attempt).await,
        4 => L2::step(layers, op, attempt).await,
        5 => L1::step(layers, op, attempt).await,
        _ => L0::step(layers, op, attempt).await,
    }
}
