//! Fibonacci backoff: `base × F(n + 1)`, capped.

use std::time::Duration;

use super::error::{InvalidBackoff, check_cap, check_nonzero, const_try};
use super::schedule::{Schedule, schedule_setters};
use crate::clock::duration_to_nanos;

/// Delays that follow the Fibonacci numbers: `min(max_delay, base_delay × F(n + 1))` for the
/// n-th retry (from 0), with `F(1) = F(2) = 1`; then randomised by [`Jitter`](crate::Jitter). Grows more
/// gently than doubling.
///
/// Other delays than the defaults go through [`builder`](Self::builder), whose `build()`
/// checks them; the retry limit and jitter can also be set on the schedule itself.
///
/// # Default
///
/// | setting       | value          |
/// |---------------|----------------|
/// | `max_retries` | 3              |
/// | `base_delay`  | 1 s            |
/// | `max_delay`   | 60 s           |
/// | `jitter`      | [`Jitter::None`](crate::Jitter::None) |
///
/// # Example
///
/// ```
/// use elf_resilience_core::FibonacciBackoff;
///
/// let secs: Vec<u64> = FibonacciBackoff::new().with_max_retries(5).map(|d| d.as_secs()).collect();
/// assert_eq!(secs, [1, 1, 2, 3, 5]);
/// let halves = FibonacciBackoff::builder().with_base_delay(std::time::Duration::from_millis(500)).build()?;
/// assert_eq!(halves.map(|d| d.as_millis()).collect::<Vec<_>>(), [500, 500, 1000]);
/// # Ok::<(), elf_resilience_core::InvalidBackoff>(())
/// ```
#[derive(Debug, Clone)]
pub struct FibonacciBackoff {
    schedule: Schedule,
    base_delay: Duration,
    max_delay: Duration,
    /// `(F(n + 1), F(n + 2))` for the next retry `n`, saturating.
    fib: (u64, u64),
}

impl Default for FibonacciBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl FibonacciBackoff {
    /// The default schedule (see `# Default`).
    pub const fn new() -> Self {
        Self {
            schedule: Schedule::new(),
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            fib: (1, 1),
        }
    }

    /// A builder starting from the defaults, for other delays.
    pub const fn builder() -> FibonacciBackoffBuilder {
        FibonacciBackoffBuilder { inner: Self::new() }
    }

    schedule_setters!(schedule);

    fn scaled(&self, fib: u64) -> Duration {
        let nanos = (self.base_delay.as_nanos()).saturating_mul(fib as u128);
        let max = duration_to_nanos(self.max_delay) as u128;
        if nanos >= max { self.max_delay } else { Duration::from_nanos(nanos as u64) }
    }
}

impl Iterator for FibonacciBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.schedule.next_attempt()?;
        let d = self.scaled(self.fib.0);
        self.fib = (self.fib.1, self.fib.0.saturating_add(self.fib.1));
        Some(self.schedule.jitter(d, self.base_delay, self.max_delay))
    }
}

/// Settings for a [`FibonacciBackoff`]; not a schedule until [`build`](Self::build) has
/// checked them.
#[derive(Debug, Clone)]
#[must_use]
pub struct FibonacciBackoffBuilder {
    inner: FibonacciBackoff,
}

impl Default for FibonacciBackoffBuilder {
    fn default() -> Self {
        FibonacciBackoff::builder()
    }
}

impl FibonacciBackoffBuilder {
    schedule_setters!(inner.schedule);

    /// The unit delay (the first two delays; greater than zero).
    pub const fn with_base_delay(mut self, d: Duration) -> Self {
        self.inner.base_delay = d;
        self
    }

    /// The cap on any single delay (at least `base_delay`).
    pub const fn with_max_delay(mut self, d: Duration) -> Self {
        self.inner.max_delay = d;
        self
    }

    /// Checks the settings: `base_delay > 0`, `max_delay >= base_delay`.
    pub const fn build(self) -> Result<FibonacciBackoff, InvalidBackoff> {
        let b = self.inner;
        const_try!(check_nonzero("base_delay", b.base_delay));
        const_try!(check_cap("base_delay", b.base_delay, b.max_delay));
        Ok(b)
    }

    /// [`build`](Self::build) for a `const` item: invalid settings stop compilation there.
    ///
    /// # Panics
    ///
    /// Outside a `const`, on invalid settings: use `build` there.
    #[track_caller]
    pub const fn build_const(self) -> FibonacciBackoff {
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
    fn long_schedules_saturate_at_cap() {
        let mut b = FibonacciBackoff::new().without_max_retries();
        assert_eq!(b.nth(500), Some(Duration::from_secs(60)));
    }

    #[test]
    fn rejects_zero_base() {
        assert!(FibonacciBackoff::builder().with_base_delay(Duration::ZERO).build().is_err());
    }
}
