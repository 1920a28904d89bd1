//! The error a retried call ends with.

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

/// The last error of a retried call, with how many attempts were made and why retrying
/// stopped.
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
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryError<E> {
    kind: RetryErrorKind,
    attempts: u32,
    last: E,
}

impl<E> RetryError<E> {
    pub(crate) fn new(kind: RetryErrorKind, attempts: u32, last: E) -> Self {
        Self { kind, attempts, last }
    }

    /// Why retrying stopped.
    pub fn kind(&self) -> RetryErrorKind {
        self.kind
    }

    /// How many times the operation ran (the first call included).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last error.
    pub fn inner(&self) -> &E {
        &self.last
    }

    /// The last error, by value.
    pub fn into_inner(self) -> E {
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

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.attempts == 1 { "" } else { "s" };
        write!(f, "{} after {} attempt{plural}: {}", self.kind, self.attempts, self.last)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.last)
    }
}

impl<E: RetryAfterHint> RetryAfterHint for RetryError<E> {
    fn retry_after(&self) -> Option<std::time::Duration> {
        self.last.retry_after()
    }
}
