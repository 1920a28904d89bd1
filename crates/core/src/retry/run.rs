//! One retried call: the decision after each attempt, shared by `call` and `call_async`.

use std::time::Duration;

use super::hint::wait_with_hint;
use super::{
    ResultPredicate, Retry, RetryError, RetryErrorKind, RetryHintSource, RetryNotify, RetryPredicate,
};
use crate::clock::Clock;

/// The clock one call measures `max_elapsed` with.
pub(crate) enum CallClock<'a> {
    Borrowed(&'a dyn Clock),
    #[cfg(feature = "tokio")]
    Tokio(crate::clock::TokioClock),
}

impl CallClock<'_> {
    fn now_nanos(&self) -> u64 {
        match self {
            CallClock::Borrowed(c) => c.now_nanos(),
            #[cfg(feature = "tokio")]
            CallClock::Tokio(c) => c.now_nanos(),
        }
    }
}

/// The state of one call: attempts so far, the schedule `S` (made from the policy's backoff at
/// the first retry), and the start time when a time limit applies.
pub(crate) struct RetryRun<'a, S> {
    schedule: Option<S>,
    attempts: u32,
    started: u64,
    clock: Option<CallClock<'a>>,
}

impl<S> RetryRun<'_, S> {
    /// Counts one more attempt.
    pub(crate) fn count_attempt(&mut self) {
        self.attempts = self.attempts.saturating_add(1);
    }
}

/// What to do after an attempt; `V` is what a rejected value is kept as.
pub(super) enum Flow<T, E, V> {
    Done(Result<T, RetryError<E, V>>),
    Wait(Duration),
}

impl<B, P, R, N, H, S> Retry<B, P, R, N, H, S>
where
    B: Iterator<Item = Duration> + Clone,
{
    /// Starts a call: deposits into the budget, reads the clock only under a time limit.
    #[inline]
    pub(crate) fn begin<'a, Sch>(&'a self, clock: impl FnOnce() -> CallClock<'a>) -> RetryRun<'a, Sch> {
        if let Some(budget) = &self.settings.budget {
            budget.deposit();
        }
        let clock = self.settings.max_elapsed.map(|_| clock());
        let started = clock.as_ref().map_or(0, CallClock::now_nanos);
        RetryRun { schedule: None, attempts: 0, started, clock }
    }

    /// Decides what follows an attempt's outcome.
    #[inline]
    pub(super) fn settle<T, E>(
        &self,
        run: &mut RetryRun<'_, B>,
        outcome: Result<T, E>,
    ) -> Flow<T, E, R::Rejected>
    where
        P: RetryPredicate<E>,
        R: ResultPredicate<T>,
        N: RetryNotify<E>,
        H: RetryHintSource<E>,
    {
        run.count_attempt();
        match outcome {
            Ok(v) => match self.retry_on_result.check(v) {
                Ok(v) => Flow::Done(Ok(v)),
                Err(rejected) => self.after_value(run, rejected),
            },
            Err(e) => self.after_error(run, e),
        }
    }

    #[cold]
    fn after_value<T, E, V>(&self, run: &mut RetryRun<'_, B>, rejected: V) -> Flow<T, E, V> {
        match self.next_wait(run, true, None, B::clone) {
            Ok(wait) => {
                observe_retry(run.attempts, wait);
                Flow::Wait(wait)
            }
            Err(kind) => {
                observe_give_up(kind, run.attempts);
                Flow::Done(Err(RetryError::rejected(kind, run.attempts, rejected)))
            }
        }
    }

    #[cold]
    fn after_error<T, E, V>(&self, run: &mut RetryRun<'_, B>, error: E) -> Flow<T, E, V>
    where
        P: RetryPredicate<E>,
        N: RetryNotify<E>,
        H: RetryHintSource<E>,
    {
        let retryable = self.retries(&error);
        match self.wait_after_error(run, &error, retryable, B::clone) {
            Ok(wait) => Flow::Wait(wait),
            Err(kind) => Flow::Done(Err(RetryError::new(kind, run.attempts, error))),
        }
    }

    /// Whether the policy's predicate retries `error`.
    pub(crate) fn retries<E>(&self, error: &E) -> bool
    where
        P: RetryPredicate<E>,
    {
        self.retry_if.should_retry(error)
    }

    /// After an attempt failed with `error` (counted in `run`): the wait before the next
    /// attempt, or why there is none. Notifies and observes either way; `schedule` makes the
    /// delays from the backoff at the first retry.
    pub(crate) fn wait_after_error<E, Sch>(
        &self,
        run: &mut RetryRun<'_, Sch>,
        error: &E,
        retryable: bool,
        schedule: impl FnOnce(&B) -> Sch,
    ) -> Result<Duration, RetryErrorKind>
    where
        Sch: Iterator<Item = Duration>,
        N: RetryNotify<E>,
        H: RetryHintSource<E>,
    {
        let hint = if retryable { self.hint.hint(error) } else { None };
        match self.next_wait(run, retryable, hint, schedule) {
            Ok(wait) => {
                self.notify.notify(run.attempts, wait, error);
                observe_retry(run.attempts, wait);
                Ok(wait)
            }
            Err(kind) => {
                observe_give_up(kind, run.attempts);
                Err(kind)
            }
        }
    }

    fn next_wait<Sch: Iterator<Item = Duration>>(
        &self,
        run: &mut RetryRun<'_, Sch>,
        retryable: bool,
        hint: Option<Duration>,
        schedule: impl FnOnce(&B) -> Sch,
    ) -> Result<Duration, RetryErrorKind> {
        if !retryable {
            return Err(RetryErrorKind::NotRetryable);
        }
        if self.settings.max_attempts.is_some_and(|m| run.attempts >= m) {
            return Err(RetryErrorKind::Exhausted);
        }
        let schedule = run.schedule.get_or_insert_with(|| schedule(&self.backoff));
        let delay = schedule.next().ok_or(RetryErrorKind::Exhausted)?;
        let wait = wait_with_hint(delay, hint, self.settings.max_hint);
        if let (Some(limit), Some(clock)) = (self.settings.max_elapsed, &run.clock) {
            let elapsed = Duration::from_nanos(clock.now_nanos().saturating_sub(run.started));
            if elapsed.saturating_add(wait) > limit {
                return Err(RetryErrorKind::ElapsedLimit);
            }
        }
        if let Some(budget) = &self.settings.budget
            && !budget.withdraw()
        {
            return Err(RetryErrorKind::BudgetSpent);
        }
        Ok(wait)
    }
}

fn observe_retry(attempt: u32, wait: Duration) {
    tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying after failed attempt");
    metrics::counter!("elf_retry_attempts_total").increment(1);
}

fn observe_give_up(kind: RetryErrorKind, attempts: u32) {
    tracing::debug!(attempts, reason = kind.as_str(), "retry gave up");
    // One literal label per arm keeps the metric key static: nothing allocated.
    let counter = match kind {
        RetryErrorKind::Exhausted => metrics::counter!("elf_retry_giveups_total", "reason" => "exhausted"),
        RetryErrorKind::ElapsedLimit => {
            metrics::counter!("elf_retry_giveups_total", "reason" => "elapsed_limit")
        }
        RetryErrorKind::BudgetSpent => {
            metrics::counter!("elf_retry_giveups_total", "reason" => "budget_spent")
        }
        RetryErrorKind::NotRetryable => {
            metrics::counter!("elf_retry_giveups_total", "reason" => "not_retryable")
        }
    };
    counter.increment(1);
}
