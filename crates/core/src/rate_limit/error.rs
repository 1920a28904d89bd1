//! Errors of the rate limiter.

use crate::clock::duration_to_nanos;
use std::fmt;
use std::time::Duration;

/// A request was refused: the limiter has no cell to give before
/// [`retry_after`](Self::retry_after) has passed.
///
/// It holds the wait as nanoseconds and makes the [`Duration`] only when asked, so a denial
/// costs no division.
///
/// ```
/// use elf_resilience_core::RateLimited;
/// use std::time::Duration;
///
/// let denied = RateLimited::new(Duration::from_millis(1500));
/// assert_eq!(denied.retry_after(), Duration::from_millis(1500));
/// assert_eq!(denied.to_string(), "rate limited: try again in 1.5s");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RateLimited {
    wait_nanos: u64,
}

impl RateLimited {
    /// A rejection that clears after `retry_after` (at most about 584 years).
    pub const fn new(retry_after: Duration) -> Self {
        Self::from_nanos(duration_to_nanos(retry_after))
    }

    #[inline]
    pub(crate) const fn from_nanos(wait_nanos: u64) -> Self {
        Self { wait_nanos }
    }

    /// How long until the same request would be allowed.
    pub const fn retry_after(&self) -> Duration {
        Duration::from_nanos(self.wait_nanos)
    }
}

impl fmt::Debug for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimited").field("retry_after", &self.retry_after()).finish()
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limited: try again in {:?}", self.retry_after())
    }
}

impl std::error::Error for RateLimited {}

/// Why [`RateLimiter::check_n`](crate::RateLimiter::check_n) refused a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    /// The batch fits the burst, but not yet.
    #[error(transparent)]
    Limited(#[from] RateLimited),
    /// The batch is larger than the burst: it can never be allowed.
    #[error("{requested} cells requested but the burst allows at most {burst}")]
    InsufficientCapacity {
        /// Cells asked for.
        requested: u32,
        /// The limiter's burst size.
        burst: u32,
    },
}

impl RateLimitError {
    /// The wait before retrying, if waiting can ever help.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Limited(l) => Some(l.retry_after()),
            Self::InsufficientCapacity { .. } => None,
        }
    }
}

/// A rate limiter configuration that cannot work, rejected at construction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitConfigError {
    /// The builder was given no rate.
    #[error("rate limiter needs a rate: call per_second, per_minute, per_hour or period")]
    MissingRate,
    /// The replenish period is zero.
    #[error("rate limiter replenish period must be greater than zero")]
    ZeroPeriod,
    /// The period or the burst window does not fit in 584 years of nanoseconds.
    #[error("rate limiter period {period:?} times burst {burst} is too long")]
    TooLong {
        /// Time to replenish one cell.
        period: Duration,
        /// Burst size.
        burst: u32,
    },
}
