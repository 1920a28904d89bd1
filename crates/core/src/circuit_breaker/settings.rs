//! What two registrations of one breaker name are compared by, so that a second one with other
//! settings is not silently ignored.

use super::builder::{BreakerConfig, RateRules};
use super::state::Limits;
use super::window::SlidingWindow;
use std::fmt;
use std::time::Duration;

/// A breaker's thresholds and windows. The clock, the error filter and the listeners are not
/// part of it: closures and clocks cannot be compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    limits: Limits,
    window: Option<SlidingWindow>,
    rules: RateRules,
    slow_nanos: Option<u64>,
}

impl BreakerConfig {
    pub(crate) fn settings(&self) -> Settings {
        Settings { limits: self.limits, window: self.window, rules: self.rules, slow_nanos: self.slow_nanos }
    }
}

/// Logs a warning when `given` was offered under the name of `kept`, an existing breaker with
/// other settings: the registry keeps `kept` and ignores `given`.
pub(crate) fn warn_if_different(kept: &BreakerConfig, given: &BreakerConfig) {
    let (kept_settings, given_settings) = (kept.settings(), given.settings());
    if kept_settings != given_settings {
        tracing::warn!(
            breaker = &*kept.name,
            kept = %kept_settings,
            ignored = %given_settings,
            "a circuit breaker by this name exists with other settings; it is kept and the new settings are ignored"
        );
    }
}

impl fmt::Display for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.limits;
        write!(
            f,
            "failure_threshold={}, recovery_timeout={:?}",
            l.failure_threshold,
            nanos(l.recovery_nanos)
        )?;
        write!(
            f,
            ", half_open_permits={}, half_open_successes={}",
            l.half_open_permits, l.half_open_successes
        )?;
        if let Some(max) = l.half_open_max_nanos {
            write!(f, ", max_wait_in_half_open={:?}", nanos(max))?;
        }
        if let Some(window) = self.window {
            write!(f, ", sliding_window={window:?}, minimum_calls={}", self.rules.minimum_calls)?;
        }
        if let Some(rate) = self.rules.failure_rate {
            write!(f, ", failure_rate_threshold={rate}%")?;
        }
        if let (Some(slow), Some(rate)) = (self.slow_nanos, self.rules.slow_rate) {
            write!(f, ", slow_call_duration={:?}, slow_call_rate_threshold={rate}%", nanos(slow))?;
        }
        Ok(())
    }
}

fn nanos(n: u64) -> Duration {
    Duration::from_nanos(n)
}
