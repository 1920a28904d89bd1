//! The same delay before every retry.

use std::time::Duration;

use super::error::InvalidBackoff;
use super::jitter::{Jitter, JitterState};

/// The same delay before every retry, optionally randomised by [`Jitter`]. With
/// [`Jitter::Decorrelated`] the delays range from `delay` up to `3 × delay`.
///
/// # Default
///
/// | setting       | value          |
/// |---------------|----------------|
/// | `max_retries` | 3              |
/// | `delay`       | 1 s            |
/// | `jitter`      | [`Jitter::None`] |
///
/// # Example
///
/// ```
/// use elf_resilience_core::FixedDelay;
/// use std::time::Duration;
///
/// let d = FixedDelay::new().with_delay(Duration::from_millis(250)).with_max_retries(2).build()?;
/// assert_eq!(d.collect::<Vec<_>>(), [Duration::from_millis(250); 2]);
/// # Ok::<(), elf_resilience_core::InvalidBackoff>(())
/// ```
#[derive(Debug, Clone)]
pub struct FixedDelay {
    max_retries: Option<u32>,
    delay: Duration,
    jitter: JitterState,
    attempt: u32,
}

impl Default for FixedDelay {
    fn default() -> Self {
        Self::new()
    }
}

impl FixedDelay {
    /// The default schedule (see `# Default`).
    pub const fn new() -> Self {
        Self { max_retries: Some(3), delay: Duration::from_secs(1), jitter: JitterState::new(), attempt: 0 }
    }

    /// Every setting is valid (a zero delay retries immediately); kept for symmetry with the
    /// other backoffs.
    pub const fn build(self) -> Result<Self, InvalidBackoff> {
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

    /// The delay before each retry.
    pub const fn with_delay(mut self, d: Duration) -> Self {
        self.delay = d;
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
}

impl Iterator for FixedDelay {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.max_retries.is_some_and(|m| self.attempt >= m) {
            return None;
        }
        self.attempt = self.attempt.saturating_add(1);
        let cap = self.delay.saturating_mul(3);
        Some(self.jitter.apply(self.delay, self.delay, cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_when_asked() {
        assert_eq!(FixedDelay::new().without_max_retries().nth(10_000), Some(Duration::from_secs(1)));
        assert_eq!(FixedDelay::new().with_max_retries(0).next(), None);
    }
}
