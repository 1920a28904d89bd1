//! The breaker's errors: rejection, wrapped call error, invalid configuration.

use super::CircuitState;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A call rejected because the breaker is open (or half-open with every probe slot taken).
///
/// Its Display reads `Circuit breaker 'NAME' is OPEN; retry in 12.3s`. Making one clones the
/// breaker's name (one reference-count increment); nothing is allocated.
///
/// ```
/// use elf_resilience_core::CircuitBreaker;
///
/// let cb = CircuitBreaker::new("OpenAI-API");
/// cb.trip();
/// let open = cb.try_acquire().unwrap_err();
/// assert!(open.to_string().starts_with("Circuit breaker 'OpenAI-API' is OPEN; retry in 60"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitOpen {
    /// The breaker's name.
    pub name: Arc<str>,
    /// The state that rejected the call.
    pub state: CircuitState,
    /// Time until a probe call is allowed; `None` when unknown (forced open, or half-open
    /// with every probe slot taken).
    pub retry_after: Option<Duration>,
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Circuit breaker '{}' is OPEN", self.name)?;
        match (self.state, self.retry_after) {
            (_, Some(d)) => write!(f, "; retry in {:.1}s", d.as_secs_f64()),
            (CircuitState::ForcedOpen, None) => f.write_str(" (forced open until reset)"),
            (_, None) => f.write_str(" (half-open, probe calls in flight)"),
        }
    }
}

impl std::error::Error for CircuitOpen {}

/// The error of a call made through a breaker: rejected, or the call's own error.
///
/// ```
/// use elf_resilience_core::{CircuitBreaker, CircuitBreakerError};
///
/// let cb = CircuitBreaker::new("db");
/// let err = cb.call(|| Err::<(), _>("timeout")).unwrap_err();
/// assert!(!err.is_open());
/// assert_eq!(err.into_inner(), Some("timeout"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CircuitBreakerError<E> {
    /// The breaker rejected the call without running it.
    Open(CircuitOpen),
    /// The call ran and returned this error.
    Inner(E),
}

impl<E> CircuitBreakerError<E> {
    /// True if the breaker rejected the call.
    pub fn is_open(&self) -> bool {
        matches!(self, CircuitBreakerError::Open(_))
    }

    /// True if the call ran and failed.
    pub fn is_inner(&self) -> bool {
        matches!(self, CircuitBreakerError::Inner(_))
    }

    /// The rejection, if the breaker rejected the call.
    pub fn as_open(&self) -> Option<&CircuitOpen> {
        match self {
            CircuitBreakerError::Open(open) => Some(open),
            CircuitBreakerError::Inner(_) => None,
        }
    }

    /// The call's own error, if it ran.
    pub fn inner(&self) -> Option<&E> {
        match self {
            CircuitBreakerError::Inner(e) => Some(e),
            CircuitBreakerError::Open(_) => None,
        }
    }

    /// The call's own error, if it ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            CircuitBreakerError::Inner(e) => Some(e),
            CircuitBreakerError::Open(_) => None,
        }
    }
}

impl<E> From<CircuitOpen> for CircuitBreakerError<E> {
    fn from(open: CircuitOpen) -> Self {
        CircuitBreakerError::Open(open)
    }
}

impl<E: fmt::Display> fmt::Display for CircuitBreakerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CircuitBreakerError::Open(open) => open.fmt(f),
            CircuitBreakerError::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for CircuitBreakerError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CircuitBreakerError::Open(_) => None,
            CircuitBreakerError::Inner(e) => Some(e),
        }
    }
}

/// A breaker configuration rejected by [`CircuitBreakerBuilder::build`](super::CircuitBreakerBuilder::build).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBreakerConfig {
    /// A count that must be at least 1 was 0.
    #[error("{field} must be at least 1")]
    Zero {
        /// The setting.
        field: &'static str,
    },
    /// A count above what the breaker can hold.
    #[error("{field} must be at most {max}, got {value}")]
    TooLarge {
        /// The setting.
        field: &'static str,
        /// The largest accepted value.
        max: u64,
        /// The value given.
        value: u64,
    },
    /// A percentage outside `(0, 100]`, or NaN.
    #[error("{field} must be a percentage in (0, 100], got {value}")]
    Percentage {
        /// The setting.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// More half-open successes required than probes permitted.
    #[error("half_open_successes ({successes}) must not exceed half_open_permits ({permits})")]
    SuccessesExceedPermits {
        /// Successes required to close.
        successes: u32,
        /// Probe calls permitted.
        permits: u32,
    },
    /// A rate threshold was set without a sliding window to measure it over.
    #[error("{field} needs a sliding window (count or time based)")]
    NeedsWindow {
        /// The setting.
        field: &'static str,
    },
    /// A slow-call rate threshold without a slow-call duration, or the reverse.
    #[error("slow_call_duration and slow_call_rate_threshold must be set together")]
    SlowCallIncomplete,
    /// A duration that must be longer than zero was zero.
    #[error("{field} must be longer than zero")]
    ZeroDuration {
        /// The setting.
        field: &'static str,
    },
    /// A time window of zero length.
    #[error("the time window must be longer than zero")]
    EmptyTimeWindow,
}
