//! Running an operation through the layers, outermost first.
//!
//! Each layer's step is a future of its own type, nested inside the step of the layer around
//! it: the levels below are types, so the whole call is one future, allocated nowhere, for
//! pipelines of up to [`UNBOXED`] layers. Deeper layers are boxed, one box per step.

use std::fmt;
use std::future::Future;

use std::marker::PhantomData;

use super::call::Call;
use super::{Layer, Pipeline, PipelineError, layers};
use crate::fallback::Attempt;
use crate::resource::Context;

/// How many layers run without boxing.
const UNBOXED: usize = 6;

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

/// A depth in the pipeline: its step runs layer `i` with the next depth's step inside.
pub(super) trait Level: 'static {
    fn step<'a, O: Op>(
        p: &'a Pipeline,
        i: usize,
        op: &'a O,
        call: Call<'a>,
    ) -> impl Future<Output = Out<O>> + Send + 'a;
}

/// The step inside a layer: the layers below it, then the operation.
pub(super) struct Next<'a, O, N> {
    p: &'a Pipeline,
    i: usize,
    op: &'a O,
    level: PhantomData<N>,
}

impl<O, N> Clone for Next<'_, O, N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O, N> Copy for Next<'_, O, N> {}

impl<'a, O: Op, N: Level> Next<'a, O, N> {
    /// Runs the step for `call`, which may borrow less long than the pipeline.
    pub(super) fn run<'b>(self, call: Call<'b>) -> impl Future<Output = Out<O>> + Send + 'b
    where
        'a: 'b,
    {
        N::step(self.p, self.i, self.op, call)
    }
}

macro_rules! levels {
    ($($level:ident => $next:ident),* $(,)?) => {$(
        struct $level;

        impl Level for $level {
            fn step<'a, O: Op>(
                p: &'a Pipeline,
                i: usize,
                op: &'a O,
                call: Call<'a>,
            ) -> impl Future<Output = Out<O>> + Send + 'a {
                p.layer::<O, $next>(i, op, call)
            }
        }
    )*};
}

// One level per layer, and one for the operation itself.
levels! { L0 => L1, L1 => L2, L2 => L3, L3 => L4, L4 => L5, L5 => L6, L6 => Deep }
const _: () = assert!(UNBOXED == 6, "one level per unboxed layer, plus the operation's");

/// Past [`UNBOXED`] layers: each step is boxed, which ends the nesting of types.
struct Deep;

impl Level for Deep {
    fn step<'a, O: Op>(
        p: &'a Pipeline,
        i: usize,
        op: &'a O,
        call: Call<'a>,
    ) -> impl Future<Output = Out<O>> + Send + 'a {
        Box::pin(p.layer::<O, Deep>(i, op, call))
    }
}

impl Pipeline {
    /// Runs `op` through every layer. The operation receives an [`Attempt`] (provider and
    /// degrade knobs are set by a fallback layer, if there is one).
    ///
    /// (Not an `async fn`: that would keep the context and operation twice in the future, as
    /// given and as moved into its body.)
    #[allow(clippy::manual_async_fn)]
    pub fn call<T, E, F, Fut>(&self, ctx: Context, op: F) -> impl Future<Output = Result<T, PipelineError<E>>>
    where
        T: Send,
        E: fmt::Display + Send,
        F: Fn(Attempt) -> Fut + Sync,
        Fut: Future<Output = Result<T, E>> + Send,
    {
        async move {
            let (call, op) = (Call::first(&ctx), &op);
            // The fewer the layers, the shallower the future that is made and moved.
            match self.layers.len() {
                0 => L6::step(self, 0, op, call).await,
                1 => L5::step(self, 0, op, call).await,
                2 => L4::step(self, 0, op, call).await,
                3 => L3::step(self, 0, op, call).await,
                4 => L2::step(self, 0, op, call).await,
                5 => L1::step(self, 0, op, call).await,
                _ => L0::step(self, 0, op, call).await,
            }
        }
    }

    /// Runs layer `i` (or the operation, past the last layer) with level `N` inside.
    fn layer<'a, O: Op, N: Level>(
        &'a self,
        i: usize,
        op: &'a O,
        call: Call<'a>,
    ) -> impl Future<Output = Out<O>> + 'a {
        // Only `next` and `call` are kept: the layer, pipeline and operation are read from `next`.
        let next = Next::<O, N> { p: self, i: i + 1, op, level: PhantomData };
        async move {
            let Some(layer) = next.p.layers.get(next.i - 1) else {
                return next.op.run(call.attempt()).await.map_err(PipelineError::Inner);
            };
            match layer {
                Layer::CircuitBreaker(cb) => layers::breaker(cb, &call, &next).await,
                Layer::Retry(backoff) => layers::retry(backoff, &call, &next).await,
                Layer::Fallback(fallback) => layers::fallback(fallback, &call, &next).await,
                Layer::RateLimit(limiter) => {
                    limiter.check().map_err(PipelineError::RateLimited)?;
                    next.run(call).await
                }
                Layer::Bulkhead(bulkhead) => {
                    // A free slot is taken here, with no future of its own.
                    let _slot = match bulkhead.try_borrow() {
                        Some(slot) => slot,
                        None => layers::bulkhead_wait(bulkhead).await?,
                    };
                    next.run(call).await
                }
                Layer::Timeout(limit) => layers::timeout(*limit, &call, &next).await,
            }
        }
    }
}
