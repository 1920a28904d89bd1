//! The statistics snapshot.

use super::CircuitState;
use serde::{Serialize, Serializer};
use std::time::{Duration, SystemTime};

/// Cumulative time spent in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct StateDurations {
    /// Time closed.
    #[serde(serialize_with = "secs")]
    pub closed: Duration,
    /// Time open.
    #[serde(serialize_with = "secs")]
    pub open: Duration,
    /// Time half-open.
    #[serde(serialize_with = "secs")]
    pub half_open: Duration,
    /// Time forced open.
    #[serde(serialize_with = "secs")]
    pub forced_open: Duration,
    /// Time disabled.
    #[serde(serialize_with = "secs")]
    pub disabled: Duration,
}

impl StateDurations {
    pub(crate) fn from_nanos(n: [u64; 5]) -> Self {
        let d = Duration::from_nanos;
        Self { closed: d(n[0]), open: d(n[1]), half_open: d(n[2]), forced_open: d(n[3]), disabled: d(n[4]) }
    }

    /// The time spent in `state`.
    pub fn get(&self, state: CircuitState) -> Duration {
        match state {
            CircuitState::Closed => self.closed,
            CircuitState::Open => self.open,
            CircuitState::HalfOpen => self.half_open,
            CircuitState::ForcedOpen => self.forced_open,
            CircuitState::Disabled => self.disabled,
        }
    }
}

/// A snapshot of a breaker's statistics (the seed's `get_stats()`).
///
/// Durations serialize as seconds (floating point), wall time as seconds since the Unix epoch.
///
/// ```
/// use elf_resilience_core::{CircuitBreaker, CircuitState};
///
/// let cb = CircuitBreaker::new("search");
/// let _ = cb.call(|| Ok::<_, ()>(1));
/// let _ = cb.call(|| Err::<i32, _>("boom"));
/// let stats = cb.stats();
/// assert_eq!(stats.state, CircuitState::Closed);
/// assert_eq!((stats.total_calls, stats.successful_calls, stats.failed_calls), (2, 1, 1));
/// assert_eq!(stats.success_rate, 50.0);
/// assert_eq!(stats.consecutive_failures, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CircuitStats {
    /// The breaker's name.
    pub name: String,
    /// Its state now.
    pub state: CircuitState,
    /// Every call attempt: admitted (whatever the outcome) plus rejected.
    pub total_calls: u64,
    /// Calls that succeeded.
    pub successful_calls: u64,
    /// Calls that failed (and counted as failures).
    pub failed_calls: u64,
    /// Calls rejected without running.
    pub rejected_calls: u64,
    /// Calls that ended with an error the breaker does not count.
    pub ignored_calls: u64,
    /// Calls (successful or not) slower than the slow-call duration.
    pub slow_calls: u64,
    /// Successful calls as a percentage (0–100) of counted outcomes; 100 before any.
    pub success_rate: f64,
    /// Failures in a row since the last success (closed state).
    pub consecutive_failures: u32,
    /// Time since the last transition.
    #[serde(serialize_with = "secs")]
    pub time_in_state: Duration,
    /// Cumulative time in each state, the current stay included.
    pub time_in_states: StateDurations,
    /// Number of state transitions.
    pub transitions: u64,
    /// When the last transition (or creation) happened, on the breaker's monotonic clock.
    #[serde(serialize_with = "secs")]
    pub last_transition_at: Duration,
    /// When the last transition (or creation) happened, wall time.
    #[serde(serialize_with = "unix_secs")]
    pub last_transition_wall: SystemTime,
}

/// Success rate in percent; 100 when nothing was counted yet.
pub(crate) fn success_rate(successful: u64, failed: u64) -> f64 {
    let counted = successful + failed;
    if counted == 0 { 100.0 } else { successful as f64 * 100.0 / counted as f64 }
}

fn secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn unix_secs<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    s.serialize_f64(since.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rate_is_a_percentage() {
        assert_eq!(success_rate(0, 0), 100.0);
        assert_eq!(success_rate(3, 1), 75.0);
    }
}
