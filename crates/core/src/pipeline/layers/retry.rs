//! The retry layer: a [`Retry`] around the layers inside it.
//!
//! The layer keeps the policy with its types erased ([`RetryPolicy`]), deciding over the
//! [`PipelineError`] the layers inside yield: the policy's predicate, attempt and time limits,
//! budget, Retry-After hints and notify all apply. Errors that no retry can cure (an open
//! breaker inside, a queued or given-up request) are never retried.

use std::pin::Pin;
use std::time::Duration;

use super::super::error::PipelineError;
use super::super::run::{Level, Next, Op, Out, Step};
use crate::fallback::Attempt;
use crate::retry::{
    AcceptAnyResult, AsyncSleeper, Retry, RetryHintSource, RetryNotify, RetryPredicate, RetryRun,
};

/// The delays of one call, made at its first retry.
type Schedule = Box<dyn Iterator<Item = Duration> + Send>;

/// A retry policy as a pipeline's retry layer holds it, for operations failing with `E`.
pub(crate) trait RetryPolicy<E>: Send + Sync {
    /// Starts a call.
    fn begin(&self) -> RetryRun<'_, Schedule>;

    /// After an attempt failed with `error`: the wait before the next one, if any.
    fn wait_after(&self, run: &mut RetryRun<'_, Schedule>, error: &PipelineError<E>) -> Option<Duration>;

    /// Waits `wait` (boxed: only a failed call gets here).
    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

impl<E, B, P, N, H, S> RetryPolicy<E> for Retry<B, P, AcceptAnyResult, N, H, S>
where
    B: Iterator<Item = Duration> + Clone + Send + Sync + 'static,
    P: RetryPredicate<PipelineError<E>> + Send + Sync,
    N: RetryNotify<PipelineError<E>> + Send + Sync,
    H: RetryHintSource<PipelineError<E>> + Send + Sync,
    S: AsyncSleeper + Send + Sync,
    S::Sleep: Send,
{
    fn begin(&self) -> RetryRun<'_, Schedule> {
        Retry::begin(self, || self.async_clock())
    }

    fn wait_after(&self, run: &mut RetryRun<'_, Schedule>, error: &PipelineError<E>) -> Option<Duration> {
        run.count_attempt();
        let retryable = error.is_retryable() && self.retries(error);
        let schedule = |b: &B| Box::new(b.clone()) as Schedule;
        self.wait_after_error(run, error, retryable, schedule).ok()
    }

    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.sleep_async(wait))
    }
}

/// What a pipeline's retry layer can be made from: a [`Retry`] (its predicate, notify and hint
/// source see the layers' [`PipelineError`]; value predicates are not supported, so its result
/// predicate is [`AcceptAnyResult`]), or a bare backoff schedule, retried as
/// `Retry::new(backoff)` would.
pub trait PipelineRetry<E>: sealed::Sealed<E> {}

mod sealed {
    pub trait Sealed<E> {
        fn into_layer(self) -> super::Erased<E>;
    }
}

/// A retry layer's policy, as made from a [`PipelineRetry`].
pub struct Erased<E>(Box<dyn RetryPolicy<E>>);

impl<E> std::fmt::Debug for Erased<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Erased")
    }
}

pub(crate) fn into_layer<E, R: PipelineRetry<E>>(retry: R) -> Box<dyn RetryPolicy<E>> {
    sealed::Sealed::into_layer(retry).0
}

impl<E, B, P, N, H, S> PipelineRetry<E> for Retry<B, P, AcceptAnyResult, N, H, S> where
    Retry<B, P, AcceptAnyResult, N, H, S>: RetryPolicy<E> + 'static
{
}

impl<E, B, P, N, H, S> sealed::Sealed<E> for Retry<B, P, AcceptAnyResult, N, H, S>
where
    Retry<B, P, AcceptAnyResult, N, H, S>: RetryPolicy<E> + 'static,
{
    fn into_layer(self) -> Erased<E> {
        Erased(Box::new(self))
    }
}

impl<E: 'static, B> PipelineRetry<E> for B where B: Iterator<Item = Duration> + Clone + Send + Sync + 'static {}

impl<E: 'static, B> sealed::Sealed<E> for B
where
    B: Iterator<Item = Duration> + Clone + Send + Sync + 'static,
{
    fn into_layer(self) -> Erased<E> {
        Erased(Box::new(Retry::new(self)))
    }
}

/// Runs the layers inside, and again after each retryable error while the policy allows.
pub(super) async fn step<L: Step<O::E>, O: Op, N: Level>(
    retry: &dyn RetryPolicy<O::E>,
    attempt: &Attempt,
    next: Next<'_, L, O, N>,
) -> Out<O> {
    let mut run = retry.begin();
    let out = next.run(attempt).await;
    match &out {
        Err(error) => match retry.wait_after(&mut run, error) {
            Some(wait) => Box::pin(again(retry, run, wait, attempt, next)).await,
            None => out,
        },
        Ok(_) => out,
    }
}

/// The retries after a failed first attempt, each with the next attempt number.
async fn again<L: Step<O::E>, O: Op, N: Level>(
    retry: &dyn RetryPolicy<O::E>,
    mut run: RetryRun<'_, Schedule>,
    mut wait: Duration,
    first: &Attempt,
    next: Next<'_, L, O, N>,
) -> Out<O> {
    let mut attempt = first.clone();
    loop {
        retry.sleep(wait).await;
        attempt.number += 1;
        let out = next.run(&attempt).await;
        wait = match &out {
            Err(error) => match retry.wait_after(&mut run, error) {
                Some(wait) => wait,
                None => return out,
            },
            Ok(_) => return out,
        };
    }
}
