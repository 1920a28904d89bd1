//! Fibonacci backoff: `base × F(n + 1)`, capped.

use std::time::Duration;

use super::error::{InvalidBackoff, check_cap, check_nonzero, const_try};
use super::schedule::{Schedule, schedule_setters};
use crate::clock::duration_to_nanos;

/// Delays that follow the Fibonacci numbers: `min(max_delay, base_delay × F(n + 1))` for the
/// n-th retry (from 0), with `F(1) = F(2) = 1`; then randomised by [`Jitter`](crate::Jitter). Grows more
/// gently than doubling.
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
/// let secs: Vec<u64> = FibonacciBackoff::new().with_max_retries(5).build()?.map(|d| d.as_secs()).collect();
/// assert_eq!(secs, [1, 1, 2, 3, 5]);
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

    /// Validates the settings: `base_delay > 0`, `max_delay >= base_delay`.
    pub const fn build(self) -> Result<Self, InvalidBackoff> {
        const_try!(check_nonzero("base_delay", self.base_delay));
        const_try!(check_cap("base_delay", self.base_delay, self.max_delay));
        Ok(self)
    }

    schedule_setters!();

    /// The unit delay (the first two delays).
    pub const fn with_base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The cap on any single delay.
    pub const fn with_max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

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
        assert!(FibonacciBackoff::new().with_base_delay(Duration::ZERO).build().is_err());
    }
}
