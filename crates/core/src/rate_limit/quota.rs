//! How many cells, how fast: the rate limiter's configuration.

use super::RateLimitConfigError;
use super::gcra::Gcra;
use std::num::NonZeroU32;
use std::time::Duration;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A rate (one cell replenished every `interval`) and a burst (cells that may be taken at once).
///
/// By default the burst equals the count in the rate: `per_second(10)` allows 10 at once, then
/// one every 100 ms.
///
/// ```
/// use elf_resilience_core::Quota;
/// use std::num::NonZeroU32;
/// use std::time::Duration;
///
/// let q = Quota::per_second(NonZeroU32::new(10).unwrap()).allow_burst(NonZeroU32::new(3).unwrap());
/// assert_eq!(q.replenish_interval(), Duration::from_millis(100));
/// assert_eq!(q.burst_size().get(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    interval_nanos: u64,
    burst: NonZeroU32,
}

impl Quota {
    /// `n` cells per second, burst `n`. Rates above one per nanosecond are capped there.
    pub const fn per_second(n: NonZeroU32) -> Self {
        Self::per(NANOS_PER_SEC, n)
    }

    /// `n` cells per minute, burst `n`.
    pub const fn per_minute(n: NonZeroU32) -> Self {
        Self::per(60 * NANOS_PER_SEC, n)
    }

    /// `n` cells per hour, burst `n`.
    pub const fn per_hour(n: NonZeroU32) -> Self {
        Self::per(3600 * NANOS_PER_SEC, n)
    }

    /// One cell every `period`, burst 1.
    pub fn with_period(period: Duration) -> Result<Self, RateLimitConfigError> {
        let nanos = period.as_nanos();
        if nanos == 0 {
            return Err(RateLimitConfigError::ZeroPeriod);
        }
        let interval_nanos =
            u64::try_from(nanos).map_err(|_| RateLimitConfigError::TooLong { period, burst: 1 })?;
        Ok(Self { interval_nanos, burst: NonZeroU32::MIN })
    }

    /// The same rate with a different burst size.
    pub const fn allow_burst(self, burst: NonZeroU32) -> Self {
        Self { burst, ..self }
    }

    /// Time to replenish one cell.
    pub const fn replenish_interval(&self) -> Duration {
        Duration::from_nanos(self.interval_nanos)
    }

    /// Cells that may be taken at once after a long idle time.
    pub const fn burst_size(&self) -> NonZeroU32 {
        self.burst
    }

    /// The whole burst window: `replenish_interval × burst`.
    pub fn burst_window(&self) -> Duration {
        Duration::from_nanos(self.interval_nanos.saturating_mul(u64::from(self.burst.get())))
    }

    const fn per(period_nanos: u64, n: NonZeroU32) -> Self {
        let interval = period_nanos / n.get() as u64;
        let interval_nanos = if interval == 0 { 1 } else { interval };
        Self { interval_nanos, burst: n }
    }

    pub(crate) fn gcra(&self) -> Result<Gcra, RateLimitConfigError> {
        let burst = self.burst.get();
        let tolerance = self
            .interval_nanos
            .checked_mul(u64::from(burst))
            .ok_or(RateLimitConfigError::TooLong { period: self.replenish_interval(), burst })?;
        Ok(Gcra::new(self.interval_nanos, tolerance))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn intervals() {
        assert_eq!(Quota::per_second(nz(4)).replenish_interval(), Duration::from_millis(250));
        assert_eq!(Quota::per_minute(nz(60)).replenish_interval(), Duration::from_secs(1));
        assert_eq!(Quota::per_hour(nz(2)).replenish_interval(), Duration::from_secs(1800));
        assert_eq!(Quota::per_second(nz(u32::MAX)).replenish_interval(), Duration::from_nanos(1));
    }

    #[test]
    fn period_validation() {
        assert_eq!(Quota::with_period(Duration::ZERO), Err(RateLimitConfigError::ZeroPeriod));
        assert!(matches!(Quota::with_period(Duration::MAX), Err(RateLimitConfigError::TooLong { .. })));
        let q = Quota::with_period(Duration::from_secs(u64::MAX / 2_000_000_000)).unwrap();
        assert!(matches!(q.allow_burst(nz(4)).gcra(), Err(RateLimitConfigError::TooLong { .. })));
    }

    #[test]
    fn gcra_tolerance_is_interval_times_burst() {
        let g = Quota::per_second(nz(10)).allow_burst(nz(3)).gcra().unwrap();
        assert_eq!(g, Gcra::new(100_000_000, 300_000_000));
    }
}
