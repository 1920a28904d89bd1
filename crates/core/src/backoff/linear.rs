//! Linear backoff: `base + increment × n`, capped.

use std::time::Duration;

use super::error::{InvalidBackoff, check_cap, check_nonzero, const_try};
use super::schedule::{Schedule, schedule_setters};

/// Delays that grow by a constant step: `min(max_delay, base_delay + increment × n)` for the
/// n-th retry (from 0), then randomised by [`Jitter`](crate::Jitter).
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
/// | `increment`   | 1 s            |
/// | `max_delay`   | 60 s           |
/// | `jitter`      | [`Jitter::None`](crate::Jitter::None) |
///
/// # Example
///
/// ```
/// use elf_resilience_core::LinearBackoff;
///
/// use std::time::Duration;
///
/// let secs: Vec<u64> = LinearBackoff::new().with_max_retries(4).map(|d| d.as_secs()).collect();
/// assert_eq!(secs, [1, 2, 3, 4]);
/// let capped = LinearBackoff::builder().with_max_delay(Duration::from_secs(2)).build()?;
/// assert_eq!(capped.map(|d| d.as_secs()).collect::<Vec<_>>(), [1, 2, 2]);
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

    /// A builder starting from the defaults, for other delays.
    pub const fn builder() -> LinearBackoffBuilder {
        LinearBackoffBuilder { inner: Self::new() }
    }

    schedule_setters!(schedule);

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

/// Settings for a [`LinearBackoff`]; not a schedule until [`build`](Self::build) has checked
/// them.
#[derive(Debug, Clone)]
#[must_use]
pub struct LinearBackoffBuilder {
    inner: LinearBackoff,
}

impl Default for LinearBackoffBuilder {
    fn default() -> Self {
        LinearBackoff::builder()
    }
}

impl LinearBackoffBuilder {
    schedule_setters!(inner.schedule);

    /// The first delay.
    pub const fn with_base_delay(mut self, d: Duration) -> Self {
        self.inner.base_delay = d;
        self
    }

    /// The step added per retry (greater than zero; else use [`FixedDelay`](crate::FixedDelay)).
    pub const fn with_increment(mut self, d: Duration) -> Self {
        self.inner.increment = d;
        self
    }

    /// The cap on any single delay (at least `base_delay`).
    pub const fn with_max_delay(mut self, d: Duration) -> Self {
        self.inner.max_delay = d;
        self
    }

    /// Checks the settings: `increment > 0`, `max_delay >= base_delay`.
    pub const fn build(self) -> Result<LinearBackoff, InvalidBackoff> {
        let b = self.inner;
        const_try!(check_nonzero("increment", b.increment));
        const_try!(check_cap("base_delay", b.base_delay, b.max_delay));
        Ok(b)
    }

    /// [`build`](Self::build) for a `const` item: invalid settings stop compilation there.
    ///
    /// # Panics
    ///
    /// Outside a `const`, on invalid settings: use `build` there.
    #[track_caller]
    pub const fn build_const(self) -> LinearBackoff {
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
    fn caps_and_validates() {
        let b = LinearBackoff::builder().with_max_delay(Duration::from_secs(2)).with_max_retries(4);
        let secs: Vec<u64> = b.build().unwrap().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 2, 2]);
        assert!(LinearBackoff::builder().with_increment(Duration::ZERO).build().is_err());
        assert!(LinearBackoff::builder().with_max_delay(Duration::ZERO).build().is_err());
    }

    #[test]
    fn huge_steps_saturate_at_cap() {
        let b = LinearBackoff::builder().with_increment(Duration::MAX).with_max_delay(Duration::MAX);
        assert_eq!(b.build().unwrap().delay_at(3), Duration::MAX);
    }
}
