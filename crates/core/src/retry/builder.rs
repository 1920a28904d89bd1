//! The setters of [`Retry`].

use std::sync::Arc;
use std::time::Duration;

use super::{Retry, RetryBudget, UseRetryAfterHint};
use crate::clock::Clock;

impl<B, P, R, N, H, S> Retry<B, P, R, N, H, S> {
    /// Retries only errors for which `predicate` returns `true`; others end the call at once
    /// with [`RetryErrorKind::NotRetryable`](crate::RetryErrorKind::NotRetryable).
    pub fn retry_if<P2>(self, predicate: P2) -> Retry<B, P2, R, N, H, S> {
        Retry {
            backoff: self.backoff,
            retry_if: predicate,
            retry_on_result: self.retry_on_result,
            notify: self.notify,
            hint: self.hint,
            sleeper: self.sleeper,
            settings: self.settings,
        }
    }

    /// Retries successful values for which `predicate` returns `true` (a "busy, try later"
    /// reply). When retrying stops on such a value, the call fails with a
    /// [`RetryError`](crate::RetryError) that reports the attempts made and keeps the value
    /// ([`rejected_value`](crate::RetryError::rejected_value),
    /// [`into_last`](crate::RetryError::into_last)).
    ///
    /// ```
    /// use elf_resilience_core::{FixedDelay, Retry};
    ///
    /// let retry = Retry::new(FixedDelay::new().with_max_retries(2))
    ///     .retry_on_result(|reply: &&str| *reply == "busy")
    ///     .sleeper(|_| {});
    /// let err = retry.call(|| Ok::<_, std::io::Error>("busy")).unwrap_err();
    /// assert!(err.is_exhausted());
    /// assert_eq!(err.attempts(), 3);
    /// assert_eq!(err.rejected_value(), Some(&"busy"));
    /// ```
    pub fn retry_on_result<R2>(self, predicate: R2) -> Retry<B, P, R2, N, H, S> {
        Retry {
            backoff: self.backoff,
            retry_if: self.retry_if,
            retry_on_result: predicate,
            notify: self.notify,
            hint: self.hint,
            sleeper: self.sleeper,
            settings: self.settings,
        }
    }

    /// Calls `notify(attempt, delay, &error)` before each retry after an error.
    pub fn notify<N2>(self, notify: N2) -> Retry<B, P, R, N2, H, S> {
        Retry {
            backoff: self.backoff,
            retry_if: self.retry_if,
            retry_on_result: self.retry_on_result,
            notify,
            hint: self.hint,
            sleeper: self.sleeper,
            settings: self.settings,
        }
    }

    /// Reads a Retry-After hint from a closure: the next wait is at least the hint, capped by
    /// [`max_hint`](Self::max_hint).
    pub fn hint<H2>(self, hint: H2) -> Retry<B, P, R, N, H2, S> {
        Retry {
            backoff: self.backoff,
            retry_if: self.retry_if,
            retry_on_result: self.retry_on_result,
            notify: self.notify,
            hint,
            sleeper: self.sleeper,
            settings: self.settings,
        }
    }

    /// Reads Retry-After hints from errors implementing
    /// [`RetryAfterHint`](crate::RetryAfterHint).
    pub fn retry_after_hint(self) -> Retry<B, P, R, N, UseRetryAfterHint, S> {
        self.hint(UseRetryAfterHint)
    }

    /// Sleeps with `sleeper`: a [`Sleeper`](crate::Sleeper) or `Fn(Duration)` for
    /// [`call`](Self::call), an [`AsyncSleeper`](crate::AsyncSleeper) or
    /// `Fn(Duration) -> impl Future` for [`call_async`](Self::call_async).
    pub fn sleeper<S2>(self, sleeper: S2) -> Retry<B, P, R, N, H, S2> {
        Retry {
            backoff: self.backoff,
            retry_if: self.retry_if,
            retry_on_result: self.retry_on_result,
            notify: self.notify,
            hint: self.hint,
            sleeper,
            settings: self.settings,
        }
    }

    /// At most `n` attempts in all, the first included (0 and 1 both mean no retry).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.settings.max_attempts = Some(n);
        self
    }

    /// Stops retrying when the next wait would end more than `limit` after the first attempt
    /// started.
    pub fn max_elapsed(mut self, limit: Duration) -> Self {
        self.settings.max_elapsed = Some(limit);
        self
    }

    /// Caps how long a Retry-After hint may make the policy wait.
    pub fn max_hint(mut self, cap: Duration) -> Self {
        self.settings.max_hint = cap;
        self
    }

    /// Draws retries from a shared [`RetryBudget`]; each call deposits into it.
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.settings.budget = Some(budget);
        self
    }

    /// Measures `max_elapsed` with `clock`.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.settings.clock = Some(Arc::new(clock));
        self
    }

    /// The backoff schedule each call starts from.
    pub fn backoff(&self) -> &B {
        &self.backoff
    }
}
