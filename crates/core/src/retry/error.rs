//! The error a retried call ends with.

use std::convert::Infallible;
use std::fmt;

use super::hint::RetryAfterHint;

/// Why retrying stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryErrorKind {
    /// The backoff schedule or the attempt limit ran out.
    Exhausted,
    /// The next wait would have passed the total time limit.
    ElapsedLimit,
    /// The shared [`RetryBudget`](crate::RetryBudget) allowed no more retries.
    BudgetSpent,
    /// The error is not one the policy retries (`retry_if` said no).
    NotRetryable,
}

impl RetryErrorKind {
    /// A short, stable name, used as the metrics label.
    pub const fn as_str(self) -> &'static str {
        match self {
            RetryErrorKind::Exhausted => "exhausted",
            RetryErrorKind::ElapsedLimit => "elapsed_limit",
            RetryErrorKind::BudgetSpent => "budget_spent",
            RetryErrorKind::NotRetryable => "not_retryable",
        }
    }
}

impl fmt::Display for RetryErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RetryErrorKind::Exhausted => "retries exhausted",
            RetryErrorKind::ElapsedLimit => "retry time limit reached",
            RetryErrorKind::BudgetSpent => "retry budget spent",
            RetryErrorKind::NotRetryable => "error not retryable",
        })
    }
}

/// How a retried call failed: why retrying stopped, how many attempts were made, and what the
/// last attempt produced, an error or (with [`retry_on_result`](crate::Retry::retry_on_result))
/// a value the policy still rejected.
///
/// `T` is the type of a rejected value; it is [`Infallible`] unless the policy retries values,
/// and then [`inner`](Self::inner) and [`into_inner`](Self::into_inner) give the last error.
///
/// ```
/// use elf_resilience_core::{FixedDelay, Retry, RetryErrorKind};
/// use std::time::Duration;
///
/// let retry = Retry::new(FixedDelay::new().with_delay(Duration::ZERO).with_max_retries(2)).sleeper(|_| {});
/// let err = retry.call(|| Err::<(), _>("down")).unwrap_err();
/// assert_eq!(err.attempts(), 3);
/// assert_eq!(err.kind(), RetryErrorKind::Exhausted);
/// assert_eq!(err.to_string(), "retries exhausted after 3 attempts: down");
/// assert_eq!(err.into_inner(), "down");
///
/// // A value retried until the schedule ran out ends the same way, keeping the value.
/// let retry = retry.retry_on_result(|status: &u16| *status == 503);
/// let err = retry.call(|| Ok::<_, String>(503)).unwrap_err();
/// assert_eq!((err.kind(), err.attempts()), (RetryErrorKind::Exhausted, 3));
/// assert_eq!(err.to_string(), "retries exhausted after 3 attempts: the last result was rejected");
/// assert_eq!(err.rejected_value(), Some(&503));
/// assert_eq!(err.into_last(), Ok(503));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryError<E, T = Infallible> {
    kind: RetryErrorKind,
    attempts: u32,
    /// The last attempt's outcome: `Err` an error, `Ok` a rejected value.
    last: Result<T, E>,
}

impl<E, T> RetryError<E, T> {
    pub(crate) fn new(kind: RetryErrorKind, attempts: u32, last: E) -> Self {
        Self { kind, attempts, last: Err(last) }
    }

    pub(crate) fn rejected(kind: RetryErrorKind, attempts: u32, value: T) -> Self {
        Self { kind, attempts, last: Ok(value) }
    }

    /// Why retrying stopped.
    pub fn kind(&self) -> RetryErrorKind {
        self.kind
    }

    /// How many times the operation ran (the first call included).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last attempt's error, if it failed.
    pub fn error(&self) -> Option<&E> {
        self.last.as_ref().err()
    }

    /// The last attempt's value, if it succeeded with a value the policy rejected.
    pub fn rejected_value(&self) -> Option<&T> {
        self.last.as_ref().ok()
    }

    /// Whether the last attempt returned a value the policy rejected rather than an error.
    pub fn is_rejected_value(&self) -> bool {
        self.last.is_ok()
    }

    /// The last attempt's outcome: `Err` with its error, or `Ok` with the rejected value.
    pub fn into_last(self) -> Result<T, E> {
        self.last
    }

    /// Whether the schedule or attempt limit ran out.
    pub fn is_exhausted(&self) -> bool {
        self.kind == RetryErrorKind::Exhausted
    }

    /// Whether the total time limit stopped retrying.
    pub fn is_elapsed_limit(&self) -> bool {
        self.kind == RetryErrorKind::ElapsedLimit
    }

    /// Whether the retry budget stopped retrying.
    pub fn is_budget_spent(&self) -> bool {
        self.kind == RetryErrorKind::BudgetSpent
    }

    /// Whether the error was not retryable.
    pub fn is_not_retryable(&self) -> bool {
        self.kind == RetryErrorKind::NotRetryable
    }
}

impl<E> RetryError<E> {
    /// The last error (no value is ever rejected here, so there is always one).
    pub fn inner(&self) -> &E {
        match &self.last {
            Err(e) => e,
            Ok(never) => match *never {},
        }
    }

    /// The last error, by value.
    pub fn into_inner(self) -> E {
        match self.last {
            Err(e) => e,
            Ok(never) => match never {},
        }
    }
}

impl<E: fmt::Display, T> fmt::Display for RetryError<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.attempts == 1 { "" } else { "s" };
        write!(f, "{} after {} attempt{plural}: ", self.kind, self.attempts)?;
        match &self.last {
            Err(e) => e.fmt(f),
            Ok(_) => f.write_str("the last result was rejected"),
        }
    }
}

impl<E: std::error::Error + 'static, T: fmt::Debug> std::error::Error for RetryError<E, T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().map(|e| e as _)
    }
}

impl<E: RetryAfterHint, T> RetryAfterHint for RetryError<E, T> {
    fn retry_after(&self) -> Option<std::time::Duration> {
        self.error().and_then(RetryAfterHint::retry_after)
    }
}
