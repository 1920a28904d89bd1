//! The same delay before every retry.

use std::time::Duration;

use super::schedule::{Schedule, schedule_setters};

/// The same delay before every retry, optionally randomised by [`Jitter`](crate::Jitter). With
/// [`Jitter::Decorrelated`](crate::Jitter::Decorrelated) the delays range from `delay` up to `3 × delay`.
///
/// Every setting is valid (a zero delay retries at once), so it is set on the schedule
/// itself: there is no builder.
///
/// # Default
///
/// | setting       | value          |
/// |---------------|----------------|
/// | `max_retries` | 3              |
/// | `delay`       | 1 s            |
/// | `jitter`      | [`Jitter::None`](crate::Jitter::None) |
///
/// # Example
///
/// ```
/// use elf_resilience_core::FixedDelay;
/// use std::time::Duration;
///
/// let d = FixedDelay::new().with_delay(Duration::from_millis(250)).with_max_retries(2);
/// assert_eq!(d.collect::<Vec<_>>(), [Duration::from_millis(250); 2]);
/// ```
#[derive(Debug, Clone)]
pub struct FixedDelay {
    schedule: Schedule,
    delay: Duration,
}

impl Default for FixedDelay {
    fn default() -> Self {
        Self::new()
    }
}

impl FixedDelay {
    /// The default schedule (see `# Default`).
    pub const fn new() -> Self {
        Self { schedule: Schedule::new(), delay: Duration::from_secs(1) }
    }

    schedule_setters!(schedule);

    /// The delay before each retry.
    pub const fn with_delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

impl Iterator for FixedDelay {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.schedule.next_attempt()?;
        let cap = self.delay.saturating_mul(3);
        Some(self.schedule.jitter(self.delay, self.delay, cap))
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
