//! Exponential backoff: `base × multiplier^n`, capped.

use std::time::Duration;

use super::error::{InvalidBackoff, check_cap, check_growth, check_nonzero, const_try};
use super::jitter::Jitter;
use super::schedule::{Schedule, schedule_setters};
use crate::clock::duration_to_nanos;

/// Delays that grow by a constant factor: `min(max_delay, base_delay × multiplier^n)` for the
/// n-th retry (from 0), then randomised by [`Jitter`].
///
/// A schedule is always valid: [`new`](Self::new) gives the defaults, and other delays and
/// factors go through [`builder`](Self::builder), whose `build()` checks them. The retry limit
/// and jitter, which cannot make a schedule invalid, can also be set on the schedule itself.
///
/// # Default
///
/// | setting       | value          |
/// |---------------|----------------|
/// | `max_retries` | 3              |
/// | `base_delay`  | 1 s            |
/// | `multiplier`  | 2              |
/// | `max_delay`   | 60 s           |
/// | `jitter`      | [`Jitter::None`] |
///
/// # Example
///
/// The seed's custom policy: start at 0.5 s, triple each time, cap at 30 s, five retries.
///
/// ```
/// use elf_resilience_core::{ExponentialBackoff, InvalidBackoff};
/// use std::time::Duration;
///
/// let policy = ExponentialBackoff::builder()
///     .with_max_retries(5)
///     .with_base_delay(Duration::from_millis(500))
///     .with_multiplier(3.0)
///     .with_max_delay(Duration::from_secs(30))
///     .build()?;
/// let secs: Vec<f64> = policy.map(|d| d.as_secs_f64()).collect();
/// assert_eq!(secs, [0.5, 1.5, 4.5, 13.5, 30.0]);
///
/// // Bad values are rejected when the policy is built, naming the setting.
/// let err = ExponentialBackoff::builder().with_multiplier(0.5).build().unwrap_err();
/// assert_eq!(err, InvalidBackoff::MultiplierBelowOne { field: "multiplier", value: 0.5 });
/// # Ok::<(), InvalidBackoff>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExponentialBackoff {
    schedule: Schedule,
    base_delay: Duration,
    multiplier: f64,
    max_delay: Duration,
}

impl Default for ExponentialBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl ExponentialBackoff {
    /// The default schedule (see `# Default`).
    pub const fn new() -> Self {
        Self {
            schedule: Schedule::new(),
            base_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(60),
        }
    }

    /// A builder starting from the defaults, for other delays and factors.
    pub const fn builder() -> ExponentialBackoffBuilder {
        ExponentialBackoffBuilder { inner: Self::new() }
    }

    /// The seed's constructor, validated: `ExponentialBackoff(max_retries, base_delay,
    /// multiplier, max_delay, jitter)`.
    ///
    /// ```
    /// use elf_resilience_core::ExponentialBackoff;
    /// use std::time::Duration;
    ///
    /// let p = ExponentialBackoff::try_new(5, Duration::from_millis(500), 3.0, Duration::from_secs(30), true)?;
    /// assert_eq!(p.count(), 5);
    /// # Ok::<(), elf_resilience_core::InvalidBackoff>(())
    /// ```
    pub fn try_new(
        max_retries: u32,
        base_delay: Duration,
        multiplier: f64,
        max_delay: Duration,
        jitter: impl Into<Jitter>,
    ) -> Result<Self, InvalidBackoff> {
        Self::builder()
            .with_max_retries(max_retries)
            .with_base_delay(base_delay)
            .with_multiplier(multiplier)
            .with_max_delay(max_delay)
            .with_jitter(jitter.into())
            .build()
    }

    schedule_setters!(schedule);

    /// The un-jittered delay before retry `n` (from 0).
    pub fn delay_at(&self, n: u32) -> Duration {
        let x = self.base_delay.as_nanos() as f64 * self.multiplier.powi(n.min(i32::MAX as u32) as i32);
        let max = duration_to_nanos(self.max_delay);
        // A validated multiplier is finite and at least 1, so `x` only overflows to infinity.
        if x.is_nan() || x >= max as f64 { self.max_delay } else { Duration::from_nanos(x as u64) }
    }
}

impl Iterator for ExponentialBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let n = self.schedule.next_attempt()?;
        let d = self.delay_at(n);
        Some(self.schedule.jitter(d, self.base_delay, self.max_delay))
    }
}

/// Settings for an [`ExponentialBackoff`]; not a schedule until [`build`](Self::build) has
/// checked them, so `Retry::new` and `#[with_retry(backoff = ..)]` do not take it.
///
/// ```compile_fail
/// use elf_resilience_core::{ExponentialBackoff, Retry};
///
/// let retry = Retry::new(ExponentialBackoff::builder().with_multiplier(0.5)); // not an iterator
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ExponentialBackoffBuilder {
    inner: ExponentialBackoff,
}

impl Default for ExponentialBackoffBuilder {
    fn default() -> Self {
        ExponentialBackoff::builder()
    }
}

impl ExponentialBackoffBuilder {
    schedule_setters!(inner.schedule);

    /// The first delay (greater than zero).
    pub const fn with_base_delay(mut self, d: Duration) -> Self {
        self.inner.base_delay = d;
        self
    }

    /// The growth factor between delays (finite, at least 1).
    pub const fn with_multiplier(mut self, m: f64) -> Self {
        self.inner.multiplier = m;
        self
    }

    /// The cap on any single delay (at least `base_delay`).
    pub const fn with_max_delay(mut self, d: Duration) -> Self {
        self.inner.max_delay = d;
        self
    }

    /// Checks the settings: `base_delay > 0`, `multiplier` finite and `>= 1`,
    /// `max_delay >= base_delay`.
    pub const fn build(self) -> Result<ExponentialBackoff, InvalidBackoff> {
        let b = self.inner;
        const_try!(check_nonzero("base_delay", b.base_delay));
        const_try!(check_growth("multiplier", b.multiplier));
        const_try!(check_cap("base_delay", b.base_delay, b.max_delay));
        Ok(b)
    }

    /// [`build`](Self::build) for a `const` item: invalid settings stop compilation there, with
    /// a message naming the setting.
    ///
    /// ```
    /// use elf_resilience_core::ExponentialBackoff;
    /// use std::time::Duration;
    ///
    /// const POLICY: ExponentialBackoff =
    ///     ExponentialBackoff::builder().with_base_delay(Duration::from_millis(500)).with_multiplier(3.0).build_const();
    /// assert_eq!(POLICY.delay_at(1), Duration::from_millis(1500));
    /// ```
    ///
    /// ```compile_fail,E0080
    /// use elf_resilience_core::ExponentialBackoff;
    ///
    /// // error: invalid backoff: multiplier must be at least 1
    /// const SHRINKING: ExponentialBackoff = ExponentialBackoff::builder().with_multiplier(0.5).build_const();
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a `const`, on invalid settings: use `build` there.
    #[track_caller]
    pub const fn build_const(self) -> ExponentialBackoff {
        match self.build() {
            Ok(b) => b,
            Err(e) => e.fail(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_doubles_from_one_second() {
        let secs: Vec<u64> = ExponentialBackoff::new().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 4]);
    }

    #[test]
    fn rejects_bad_settings() {
        let b = ExponentialBackoff::builder();
        assert!(matches!(b.clone().with_multiplier(f64::NAN).build(), Err(InvalidBackoff::NotFinite { .. })));
        assert!(matches!(
            b.clone().with_multiplier(0.9).build(),
            Err(InvalidBackoff::MultiplierBelowOne { .. })
        ));
        assert!(matches!(
            b.clone().with_max_delay(Duration::from_millis(10)).build(),
            Err(InvalidBackoff::MaxBelowBase { .. })
        ));
        assert!(matches!(b.with_base_delay(Duration::ZERO).build(), Err(InvalidBackoff::ZeroDelay { .. })));
    }

    #[test]
    fn huge_factors_stay_at_cap() {
        let mut b = ExponentialBackoff::builder().with_multiplier(f64::MAX).build().unwrap();
        assert_eq!(b.next(), Some(Duration::from_secs(1)));
        assert_eq!(b.next(), Some(Duration::from_secs(60)));
    }

    #[test]
    fn endless_schedule_stays_at_cap() {
        let mut b = ExponentialBackoff::new().without_max_retries();
        assert_eq!(b.nth(1000), Some(Duration::from_secs(60)));
    }
}
