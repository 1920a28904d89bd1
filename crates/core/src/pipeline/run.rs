//! Running an operation through the layers nested, outermost first: every call of a pipeline
//! that does not run flat (`flat.rs`), and what a retry or fallback layer of a flat call runs
//! after a failure.
//!
//! Each layer's step is a future of its own type, nested inside the step of the layer around
//! it: the levels below are types, so the whole call is one future, allocated nowhere, for
//! pipelines of up to [`UNBOXED`] layers. Deeper layers are boxed, one box per step.
//!
//! A step leaves its result in a slot the call owns ([`Slot`]) instead of returning it: layers
//! look at the result where it lies, and it is moved once, out of the call, rather than copied
//! out of every level (each copy read back just after it was written, which stalls the CPU).

use std::fmt;
use std::future::Future;

use std::marker::PhantomData;

use super::call::Call;
use super::{Layer, Pipeline, PipelineError, flat, layers};
use crate::fallback::Attempt;
use crate::resource::Context;

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

/// Where a step leaves what it yields: `Some` once the step is done.
pub(super) type Slot<O> = Option<Out<O>>;

/// A depth in the pipeline: its step runs layer `i` with the next depth's step inside.
pub(super) trait Level: 'static {
    fn step<'a, O: Op>(
        p: &'a Pipeline,
        i: usize,
        op: &'a O,
        call: Call<'a>,
        out: &'a mut Slot<O>,
    ) -> impl Future<Output = ()> + Send + 'a;
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
    /// The step of layer `i` of `p` (or the operation, past the last layer).
    pub(super) fn at(p: &'a Pipeline, i: usize, op: &'a O) -> Self {
        Self { p, i, op, level: PhantomData }
    }

    /// Runs the step for `call`, which may borrow less long than the pipeline, into `out`.
    pub(super) fn run<'b>(self, call: Call<'b>, out: &'b mut Slot<O>) -> impl Future<Output = ()> + Send + 'b
    where
        'a: 'b,
    {
        N::step(self.p, self.i, self.op, call, out)
    }

    /// Runs the step for `call` and returns what it yields (for the fallback protocol's calls).
    pub(super) async fn yields(self, call: Call<'_>) -> Out<O> {
        let mut out = None;
        self.run(call, &mut out).await;
        out.expect("a step leaves its result")
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
                out: &'a mut Slot<O>,
            ) -> impl Future<Output = ()> + Send + 'a {
                p.layer::<O, $next>(i, op, call, out)
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
    fn step<'a, O: Op>(
        p: &'a Pipeline,
        i: usize,
        op: &'a O,
        call: Call<'a>,
        out: &'a mut Slot<O>,
    ) -> impl Future<Output = ()> + Send + 'a {
        Box::pin(p.layer::<O, Deep>(i, op, call, out))
    }
}

impl Pipeline {
    /// Runs `op` through every layer. The operation receives an [`Attempt`] (provider and
    /// degrade knobs are set by a fallback layer, if there is one).
    ///
    /// (Not an `async fn`: that would keep the context and operation twice in the future, as
    /// given and as moved into its body.)
    pub fn call<T, E, F, Fut>(&self, ctx: Context, op: F) -> impl Future<Output = Result<T, PipelineError<E>>>
    where
        T: Send,
        E: fmt::Display + Send,
        F: Fn(Attempt) -> Fut + Sync,
        Fut: Future<Output = Result<T, E>> + Send,
    {
        flat::call(self, ctx, op)
    }

    /// Runs `op` through every layer, one nested future per layer, into `out`.
    pub(super) async fn nested<O: Op>(&self, ctx: &Context, op: &O, out: &mut Slot<O>) {
        let call = Call::first(ctx);
        // The fewer the layers, the shallower the future that is made.
        match self.layers.len() {
            0 => L6::step(self, 0, op, call, out).await,
            1 => L5::step(self, 0, op, call, out).await,
            2 => L4::step(self, 0, op, call, out).await,
            3 => L3::step(self, 0, op, call, out).await,
            4 => L2::step(self, 0, op, call, out).await,
            5 => L1::step(self, 0, op, call, out).await,
            _ => L0::step(self, 0, op, call, out).await,
        }
    }

    /// Runs layer `i` (or the operation, past the last layer) with level `N` inside, into `out`.
    fn layer<'a, O: Op, N: Level>(
        &'a self,
        i: usize,
        op: &'a O,
        call: Call<'a>,
        out: &'a mut Slot<O>,
    ) -> impl Future<Output = ()> + 'a {
        // Only `next`, `call` and `out` are kept: the layer, pipeline and operation are read
        // from `next`.
        let next = Next::<O, N>::at(self, i + 1, op);
        async move {
            let Some(layer) = next.p.layers.get(next.i - 1) else {
                *out = Some(next.op.run(call.attempt()).await.map_err(PipelineError::Inner));
                return;
            };
            match layer {
                Layer::CircuitBreaker(cb) => layers::breaker(cb, &call, &next, out).await,
                Layer::Retry(backoff) => layers::retry(backoff, &call, &next, out).await,
                Layer::Fallback(fallback) => layers::fallback(fallback, &call, &next, out).await,
                Layer::RateLimit(limiter) => match limiter.check() {
                    Ok(()) => next.run(call, out).await,
                    Err(e) => *out = Some(Err(PipelineError::RateLimited(e))),
                },
                Layer::Bulkhead(bulkhead) => {
                    // A free slot is taken here, with no future of its own.
                    let _slot = match bulkhead.try_borrow() {
                        Some(slot) => slot,
                        None => match layers::bulkhead_wait(bulkhead).await {
                            Ok(slot) => slot,
                            Err(e) => return *out = Some(Err(e)),
                        },
                    };
                    next.run(call, out).await
                }
                Layer::Timeout(limit) => layers::timeout(*limit, &call, &next, out).await,
            }
        }
    }
}
