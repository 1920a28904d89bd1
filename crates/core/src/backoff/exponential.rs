//! Exponential backoff: `base × multiplier^n`, capped.

use std::time::Duration;

use super::error::{InvalidBackoff, check_cap, check_growth, check_nonzero, const_try};
use super::jitter::Jitter;
use super::schedule::{Schedule, schedule_setters};
use crate::clock::duration_to_nanos;

/// Delays that grow by a constant factor: `min(max_delay, base_delay × multiplier^n)` for the
/// n-th retry (from 0), then randomised by [`Jitter`].
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
/// use elf_resilience_core::ExponentialBackoff;
/// use std::time::Duration;
///
/// let policy = ExponentialBackoff::new()
///     .with_max_retries(5)
///     .with_base_delay(Duration::from_millis(500))
///     .with_multiplier(3.0)
///     .with_max_delay(Duration::from_secs(30))
///     .build()?;
/// let secs: Vec<f64> = policy.map(|d| d.as_secs_f64()).collect();
/// assert_eq!(secs, [0.5, 1.5, 4.5, 13.5, 30.0]);
///
/// // Bad values are rejected when the policy is built.
/// assert!(ExponentialBackoff::new().with_multiplier(0.5).build().is_err());
/// # Ok::<(), elf_resilience_core::InvalidBackoff>(())
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
        Self::new()
            .with_max_retries(max_retries)
            .with_base_delay(base_delay)
            .with_multiplier(multiplier)
            .with_max_delay(max_delay)
            .with_jitter(jitter.into())
            .build()
    }

    /// Validates the settings: `base_delay > 0`, `multiplier` finite and `>= 1`,
    /// `max_delay >= base_delay`.
    ///
    /// It is `const`, so a policy kept in a `const` is checked when the program compiles:
    ///
    /// ```
    /// use elf_resilience_core::ExponentialBackoff;
    /// use std::time::Duration;
    ///
    /// const POLICY: ExponentialBackoff = match ExponentialBackoff::new()
    ///     .with_base_delay(Duration::from_millis(500))
    ///     .with_multiplier(3.0)
    ///     .build()
    /// {
    ///     Ok(policy) => policy,
    ///     Err(_) => panic!("invalid backoff"),
    /// };
    /// assert_eq!(POLICY.delay_at(1), Duration::from_millis(1500));
    /// ```
    pub const fn build(self) -> Result<Self, InvalidBackoff> {
        const_try!(check_nonzero("base_delay", self.base_delay));
        const_try!(check_growth("multiplier", self.multiplier));
        const_try!(check_cap("base_delay", self.base_delay, self.max_delay));
        Ok(self)
    }

    schedule_setters!();

    /// The first delay.
    pub const fn with_base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The growth factor between delays.
    pub const fn with_multiplier(mut self, m: f64) -> Self {
        self.multiplier = m;
        self
    }

    /// The cap on any single delay.
    pub const fn with_max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The un-jittered delay before retry `n` (from 0).
    pub fn delay_at(&self, n: u32) -> Duration {
        let x = self.base_delay.as_nanos() as f64 * self.multiplier.powi(n.min(i32::MAX as u32) as i32);
        let max = duration_to_nanos(self.max_delay);
        // NaN can only come from unvalidated settings; treat it as the cap.
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
        let b = ExponentialBackoff::new();
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
    fn unvalidated_nan_never_panics() {
        let mut b = ExponentialBackoff::new().with_multiplier(f64::NAN);
        assert_eq!(b.next(), Some(Duration::from_secs(1)));
        assert_eq!(b.next(), Some(Duration::from_secs(60)));
        let mut neg = ExponentialBackoff::new().with_multiplier(-3.0);
        assert_eq!(neg.nth(1), Some(Duration::ZERO));
    }

    #[test]
    fn endless_schedule_stays_at_cap() {
        let mut b = ExponentialBackoff::new().without_max_retries();
        assert_eq!(b.nth(1000), Some(Duration::from_secs(60)));
    }
}
