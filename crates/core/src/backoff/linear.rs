//! Linear backoff: `base + increment × n`, capped.

use std::time::Duration;

use super::error::{InvalidBackoff, check_cap, check_nonzero};
use super::jitter::{Jitter, JitterState};

/// Delays that grow by a constant step: `min(max_delay, base_delay + increment × n)` for the
/// n-th retry (from 0), then randomised by [`Jitter`].
///
/// # Default
///
/// | setting       | value          |
/// |---------------|----------------|
/// | `max_retries` | 3              |
/// | `base_delay`  | 1 s            |
/// | `increment`   | 1 s            |
/// | `max_delay`   | 60 s           |
/// | `jitter`      | [`Jitter::None`] |
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
    max_retries: Option<u32>,
    base_delay: Duration,
    increment: Duration,
    max_delay: Duration,
    jitter: JitterState,
    attempt: u32,
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
            max_retries: Some(3),
            base_delay: Duration::from_secs(1),
            increment: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            jitter: JitterState::new(),
            attempt: 0,
        }
    }

    /// Validates the settings: `increment > 0` (else use [`FixedDelay`](crate::FixedDelay)),
    /// `max_delay >= base_delay`.
    pub const fn build(self) -> Result<Self, InvalidBackoff> {
        if let Err(e) = check_nonzero("increment", self.increment) {
            return Err(e);
        }
        if let Err(e) = check_cap("base_delay", self.base_delay, self.max_delay) {
            return Err(e);
        }
        Ok(self)
    }

    /// How many delays the schedule yields.
    pub const fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// An endless schedule (pair it with a retry limit).
    pub const fn without_max_retries(mut self) -> Self {
        self.max_retries = None;
        self
    }

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

    /// How delays are randomised.
    pub const fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = self.jitter.with_kind(jitter);
        self
    }

    /// Seeds the jitter generator.
    pub const fn with_seed(mut self, seed: u64) -> Self {
        self.jitter = self.jitter.with_seed(seed);
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
        if self.max_retries.is_some_and(|m| self.attempt >= m) {
            return None;
        }
        let d = self.delay_at(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        Some(self.jitter.apply(d, self.base_delay, self.max_delay))
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
