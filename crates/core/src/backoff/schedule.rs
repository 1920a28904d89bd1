//! What every fixed schedule shares: the retry limit, the jitter, and the attempt counter.

use std::time::Duration;

use super::jitter::{Jitter, JitterState};

/// The retry limit, jitter and position of a fixed backoff schedule; each backoff adds only
/// how its un-jittered delay grows.
#[derive(Debug, Clone)]
pub(super) struct Schedule {
    max_retries: Option<u32>,
    jitter: JitterState,
    attempt: u32,
}

impl Schedule {
    /// Three retries, no jitter, at the start.
    pub(super) const fn new() -> Self {
        Self { max_retries: Some(3), jitter: JitterState::new(), attempt: 0 }
    }

    /// `None` makes the schedule endless.
    pub(super) const fn with_max_retries(mut self, n: Option<u32>) -> Self {
        self.max_retries = n;
        self
    }

    pub(super) const fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = self.jitter.with_kind(jitter);
        self
    }

    pub(super) const fn with_seed(mut self, seed: u64) -> Self {
        self.jitter = self.jitter.with_seed(seed);
        self
    }

    /// The index of the next retry (from 0), advancing past it; `None` once the retries run out.
    pub(super) fn next_attempt(&mut self) -> Option<u32> {
        if self.max_retries.is_some_and(|m| self.attempt >= m) {
            return None;
        }
        let n = self.attempt;
        self.attempt = self.attempt.saturating_add(1);
        Some(n)
    }

    /// Randomises `d` within `[floor, cap]` as the configured [`Jitter`] says.
    pub(super) fn jitter(&mut self, d: Duration, floor: Duration, cap: Duration) -> Duration {
        self.jitter.apply(d, floor, cap)
    }
}

/// The setters every fixed schedule has (none of them can make it invalid), for a type whose
/// [`Schedule`] is at the field path given, e.g. `schedule_setters!(schedule)` on a schedule and
/// `schedule_setters!(inner.schedule)` on its builder.
macro_rules! schedule_setters {
    ($($field:ident).+) => {
        /// How many delays the schedule yields (retries, not counting the first call).
        pub const fn with_max_retries(mut self, n: u32) -> Self {
            self.$($field).+ = self.$($field).+.with_max_retries(Some(n));
            self
        }

        /// An endless schedule (pair it with a retry limit).
        pub const fn without_max_retries(mut self) -> Self {
            self.$($field).+ = self.$($field).+.with_max_retries(None);
            self
        }

        /// How delays are randomised.
        pub const fn with_jitter(mut self, jitter: $crate::backoff::Jitter) -> Self {
            self.$($field).+ = self.$($field).+.with_jitter(jitter);
            self
        }

        /// Seeds the jitter generator, for reproducible schedules in tests.
        pub const fn with_seed(mut self, seed: u64) -> Self {
            self.$($field).+ = self.$($field).+.with_seed(seed);
            self
        }
    };
}

pub(super) use schedule_setters;
