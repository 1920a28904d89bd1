//! Builder for [`RateLimiter`].

use super::{Quota, RateLimitConfigError, RateLimiter};
use crate::clock::{SharedClock, SystemClock};
use std::num::NonZeroU32;
use std::time::Duration;

/// Builds a [`RateLimiter`]; [`build`](Self::build) rejects a configuration that cannot work.
///
/// # Default
///
/// No rate (one is required), burst equal to the rate's count, the system clock.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RateLimiterBuilder {
    rate: Option<Result<Quota, RateLimitConfigError>>,
    burst: Option<NonZeroU32>,
    clock: Option<SharedClock>,
}

impl RateLimiterBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// `n` cells per second.
    pub fn per_second(self, n: NonZeroU32) -> Self {
        self.quota(Quota::per_second(n))
    }

    /// `n` cells per minute.
    pub fn per_minute(self, n: NonZeroU32) -> Self {
        self.quota(Quota::per_minute(n))
    }

    /// `n` cells per hour.
    pub fn per_hour(self, n: NonZeroU32) -> Self {
        self.quota(Quota::per_hour(n))
    }

    /// One cell every `period`.
    pub fn period(mut self, period: Duration) -> Self {
        self.rate = Some(Quota::with_period(period));
        self
    }

    /// A ready-made quota (its burst is kept unless [`burst`](Self::burst) is also called).
    pub fn quota(mut self, quota: Quota) -> Self {
        self.rate = Some(Ok(quota));
        self
    }

    /// Cells that may be taken at once.
    pub fn burst(mut self, burst: NonZeroU32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// The clock to read time from.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The limiter, or why this configuration cannot work.
    pub fn build(self) -> Result<RateLimiter, RateLimitConfigError> {
        let mut quota = self.rate.ok_or(RateLimitConfigError::MissingRate)??;
        if let Some(burst) = self.burst {
            quota = quota.allow_burst(burst);
        }
        RateLimiter::with_clock(quota, self.clock.unwrap_or_else(SystemClock::shared))
    }
}
