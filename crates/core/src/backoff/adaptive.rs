//! A delay that learns from outcomes, shared between calls and threads.

use crate::sync::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::error::{InvalidBackoff, check_cap, check_growth, check_nonzero};
use crate::clock::duration_to_nanos;

/// A delay that shrinks after successes and grows after failures, within `[min, max]`.
///
/// The learned delay lives in one atomic shared by every clone, so one `AdaptiveBackoff` can
/// steer many concurrent callers: [`record_success`](Self::record_success) multiplies it by
/// `success_reduction`, [`record_failure`](Self::record_failure) by `failure_increase`.
///
/// As a backoff source (an iterator, e.g. in [`Retry`](crate::Retry)) it yields the current
/// learned delay before each retry, up to `max_retries` times per clone; iterating does not
/// change what it has learned: the caller records outcomes, as in the seed.
///
/// Settings other than the defaults go through [`builder`](Self::builder), whose `build()`
/// checks them.
///
/// # Default
///
/// | setting             | value  |
/// |---------------------|--------|
/// | `initial_delay`     | 1 s    |
/// | `success_reduction` | 0.5    |
/// | `failure_increase`  | 2      |
/// | `min_delay`         | 100 ms |
/// | `max_delay`         | 60 s   |
/// | `max_retries`       | 3      |
///
/// `new()` and the builder's `build()` are not `const`: they allocate the shared state.
///
/// # Example
///
/// ```
/// use elf_resilience_core::AdaptiveBackoff;
/// use std::time::Duration;
///
/// let adaptive = AdaptiveBackoff::builder()
///     .with_initial_delay(Duration::from_secs(1))
///     .with_success_reduction(0.5) // halve the delay on success
///     .with_failure_increase(2.0) // double it on failure
///     .build()?;
/// let shared = adaptive.clone();
/// adaptive.record_failure();
/// assert_eq!(shared.current_delay(), Duration::from_secs(2));
/// shared.record_success();
/// shared.record_success();
/// assert_eq!(adaptive.current_delay(), Duration::from_millis(500));
/// # Ok::<(), elf_resilience_core::InvalidBackoff>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdaptiveBackoff {
    settings: AdaptiveSettings,
    current: Arc<AtomicU64>,
    yielded: u32,
}

#[derive(Debug, Clone, Copy)]
struct AdaptiveSettings {
    initial_delay: Duration,
    success_reduction: f64,
    failure_increase: f64,
    min_delay: Duration,
    max_delay: Duration,
    max_retries: Option<u32>,
}

impl AdaptiveSettings {
    const DEFAULT: Self = Self {
        initial_delay: Duration::from_secs(1),
        success_reduction: 0.5,
        failure_increase: 2.0,
        min_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(60),
        max_retries: Some(3),
    };
}

impl Default for AdaptiveBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl AdaptiveBackoff {
    /// The default settings (see `# Default`), with fresh shared state.
    pub fn new() -> Self {
        Self::with_settings(AdaptiveSettings::DEFAULT)
    }

    /// A builder starting from the defaults.
    pub const fn builder() -> AdaptiveBackoffBuilder {
        AdaptiveBackoffBuilder { settings: AdaptiveSettings::DEFAULT }
    }

    fn with_settings(settings: AdaptiveSettings) -> Self {
        let current = Arc::new(AtomicU64::new(duration_to_nanos(settings.initial_delay)));
        Self { settings, current, yielded: 0 }
    }

    /// How many delays each clone yields as an iterator.
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.settings.max_retries = Some(n);
        self
    }

    /// An endless iterator (pair it with a retry limit).
    pub fn without_max_retries(mut self) -> Self {
        self.settings.max_retries = None;
        self
    }

    /// The delay learned so far.
    pub fn current_delay(&self) -> Duration {
        Duration::from_nanos(self.current.load(Ordering::Relaxed))
    }

    /// Shrinks the learned delay by `success_reduction`, not below `min_delay`.
    pub fn record_success(&self) {
        self.scale(self.settings.success_reduction);
    }

    /// Grows the learned delay by `failure_increase`, not above `max_delay`.
    pub fn record_failure(&self) {
        self.scale(self.settings.failure_increase);
    }

    fn scale(&self, factor: f64) {
        let (lo, hi) =
            (duration_to_nanos(self.settings.min_delay), duration_to_nanos(self.settings.max_delay));
        let step = |cur: u64| {
            let x = cur as f64 * factor;
            let next = if x.is_nan() || x >= hi as f64 { hi } else { (x as u64).max(lo) };
            Some(next.clamp(lo.min(hi), hi))
        };
        // The closure always returns Some, so this never fails.
        let _ = self.current.fetch_update(Ordering::Relaxed, Ordering::Relaxed, step);
    }
}

/// Settings for an [`AdaptiveBackoff`]; not a backoff until [`build`](Self::build) has checked
/// them.
#[derive(Debug, Clone)]
#[must_use]
pub struct AdaptiveBackoffBuilder {
    settings: AdaptiveSettings,
}

impl Default for AdaptiveBackoffBuilder {
    fn default() -> Self {
        AdaptiveBackoff::builder()
    }
}

impl AdaptiveBackoffBuilder {
    /// The starting delay (within `[min_delay, max_delay]`).
    pub const fn with_initial_delay(mut self, d: Duration) -> Self {
        self.settings.initial_delay = d;
        self
    }

    /// Factor applied on success, in `(0, 1]`.
    pub const fn with_success_reduction(mut self, f: f64) -> Self {
        self.settings.success_reduction = f;
        self
    }

    /// Factor applied on failure, `>= 1`.
    pub const fn with_failure_increase(mut self, f: f64) -> Self {
        self.settings.failure_increase = f;
        self
    }

    /// The floor of the learned delay (greater than zero).
    pub const fn with_min_delay(mut self, d: Duration) -> Self {
        self.settings.min_delay = d;
        self
    }

    /// The ceiling of the learned delay.
    pub const fn with_max_delay(mut self, d: Duration) -> Self {
        self.settings.max_delay = d;
        self
    }

    /// How many delays each clone yields as an iterator.
    pub const fn with_max_retries(mut self, n: u32) -> Self {
        self.settings.max_retries = Some(n);
        self
    }

    /// An endless iterator (pair it with a retry limit).
    pub const fn without_max_retries(mut self) -> Self {
        self.settings.max_retries = None;
        self
    }

    /// Checks the settings and starts the learned delay at `initial_delay`:
    /// `min_delay > 0`, `0 < success_reduction <= 1`, `failure_increase >= 1` (both finite),
    /// `min_delay <= initial_delay <= max_delay`.
    pub fn build(self) -> Result<AdaptiveBackoff, InvalidBackoff> {
        let s = &self.settings;
        check_nonzero("min_delay", s.min_delay)?;
        check_reduction(s.success_reduction)?;
        check_growth("failure_increase", s.failure_increase)?;
        check_cap("min_delay", s.min_delay, s.max_delay)?;
        check_cap("initial_delay", s.initial_delay, s.max_delay)?;
        if s.initial_delay < s.min_delay {
            return Err(InvalidBackoff::BelowMinimum {
                field: "initial_delay",
                value: s.initial_delay,
                min: s.min_delay,
            });
        }
        Ok(AdaptiveBackoff::with_settings(self.settings))
    }
}

fn check_reduction(value: f64) -> Result<(), InvalidBackoff> {
    if !value.is_finite() {
        return Err(InvalidBackoff::NotFinite { field: "success_reduction", value });
    }
    if value <= 0.0 || value > 1.0 {
        return Err(InvalidBackoff::ReductionOutOfRange { field: "success_reduction", value });
    }
    Ok(())
}

impl Iterator for AdaptiveBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.settings.max_retries.is_some_and(|m| self.yielded >= m) {
            return None;
        }
        self.yielded = self.yielded.saturating_add(1);
        Some(self.current_delay())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_bounds() {
        let a = AdaptiveBackoff::new();
        for _ in 0..100 {
            a.record_failure();
        }
        assert_eq!(a.current_delay(), Duration::from_secs(60));
        for _ in 0..100 {
            a.record_success();
        }
        assert_eq!(a.current_delay(), Duration::from_millis(100));
    }

    #[test]
    fn rejects_meaningless_settings() {
        let bad = [
            AdaptiveBackoff::builder().with_min_delay(Duration::ZERO),
            AdaptiveBackoff::builder().with_success_reduction(0.0),
            AdaptiveBackoff::builder().with_success_reduction(1.5),
            AdaptiveBackoff::builder().with_failure_increase(0.5),
            AdaptiveBackoff::builder().with_failure_increase(f64::INFINITY),
            AdaptiveBackoff::builder().with_initial_delay(Duration::from_millis(1)),
            AdaptiveBackoff::builder().with_max_delay(Duration::from_millis(500)),
        ];
        for b in bad {
            assert!(b.build().is_err());
        }
    }

    #[test]
    fn iterating_yields_learned_delay_without_changing_it() {
        let a = AdaptiveBackoff::new();
        a.record_failure();
        let delays: Vec<Duration> = a.clone().collect();
        assert_eq!(delays, [Duration::from_secs(2); 3]);
        assert_eq!(a.current_delay(), Duration::from_secs(2));
    }
}
