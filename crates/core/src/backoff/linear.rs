//! Linear backoff: `base + increment × n`, capped.

use std::time::Duration;

use super::error::{InvalidBackoff, check_cap, check_nonzero, const_try};
use super::schedule::{Schedule, schedule_setters};

/// Delays that grow by a constant step: `min(max_delay, base_delay + increment × n)` for the
/// n-th retry (from 0), then randomised by [`Jitter`](crate::Jitter).
///
/// # Default
///
/// | setting       | value          |
/// |---------------|----------------|
/// | `max_retries` | 3              |
/// | `base_delay`  | 1 s            |
/// | `increment`   | 1 s            |
/// | `max_delay`   | 60 s           |
/// | `jitter`      | [`Jitter::None`](crate::Jitter::None) |
///
/// # Example
///
/// ```
/// use elf_resilience_core::LinearBackoff;
///
/// let secs: Vec<u64> = LinearBackoff::new().with_max_retries(4).build()?.map(|d| d.as_secs()).collect();
/// assert_eq!(secs, [1, 2, 3, 4]);
/// # Ok::<(), elf_resilience_core::InvalidBackoff>(())
/// ```
#[derive(Debug, Clone)]
pub struct LinearBackoff {
    schedule: Schedule,
    base_delay: Duration,
    increment: Duration,
    max_delay: Duration,
}

impl Default for LinearBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl LinearBackoff {
    /// The default schedule (see `# Default`).
    pub const fn new() -> Self {
        Self {
            schedule: Schedule::new(),
            base_delay: Duration::from_secs(1),
            increment: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }

    /// Validates the settings: `increment > 0` (else use [`FixedDelay`](crate::FixedDelay)),
    /// `max_delay >= base_delay`.
    pub const fn build(self) -> Result<Self, InvalidBackoff> {
        const_try!(check_nonzero("increment", self.increment));
        const_try!(check_cap("base_delay", self.base_delay, self.max_delay));
        Ok(self)
    }

    schedule_setters!();

    /// The first delay.
    pub const fn with_base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The step added per retry.
    pub const fn with_increment(mut self, d: Duration) -> Self {
        self.increment = d;
        self
    }

    /// The cap on any single delay.
    pub const fn with_max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The un-jittered delay before retry `n` (from 0).
    pub fn delay_at(&self, n: u32) -> Duration {
        self.increment
            .checked_mul(n)
            .and_then(|step| self.base_delay.checked_add(step))
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }
}

impl Iterator for LinearBackoff {
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
    fn caps_and_validates() {
        let b = LinearBackoff::new().with_max_delay(Duration::from_secs(2)).with_max_retries(4);
        let secs: Vec<u64> = b.build().unwrap().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 2, 2]);
        assert!(LinearBackoff::new().with_increment(Duration::ZERO).build().is_err());
        assert!(LinearBackoff::new().with_max_delay(Duration::ZERO).build().is_err());
    }

    #[test]
    fn huge_steps_saturate_at_cap() {
        let b = LinearBackoff::new().with_increment(Duration::MAX).with_max_delay(Duration::MAX);
        assert_eq!(b.delay_at(3), Duration::MAX);
    }
}
