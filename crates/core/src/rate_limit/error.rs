//! Errors of the rate limiter.

use std::time::Duration;

/// A request was refused: the limiter has no cell to give before `retry_after` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rate limited: try again in {retry_after:?}")]
#[non_exhaustive]
pub struct RateLimited {
    /// How long until the same request would be allowed.
    pub retry_after: Duration,
}

impl RateLimited {
    /// A rejection that clears after `retry_after`.
    pub const fn new(retry_after: Duration) -> Self {
        Self { retry_after }
    }

    /// How long until the same request would be allowed.
    pub const fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

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
            Self::Limited(l) => Some(l.retry_after),
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
