//! How a check stands, and how the checks add up to one status.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The status of one health check, or of the whole service.
///
/// ```
/// use elf_resilience_monitor::HealthStatus;
///
/// assert!(HealthStatus::Healthy.is_healthy());
/// assert_eq!(HealthStatus::Degraded.as_str(), "degraded");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthStatus {
    /// Passing.
    Healthy,
    /// Working, but with a warning: a degraded check, or a failing non-critical one.
    Degraded,
    /// Failing.
    Unhealthy,
    /// Not run yet, or not enough results to say.
    #[default]
    Unknown,
}

impl HealthStatus {
    /// The lowercase name: `healthy`, `degraded`, `unhealthy`, `unknown`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Unhealthy => "unhealthy",
            Self::Unknown => "unknown",
        }
    }

    /// Whether this is [`HealthStatus::Healthy`].
    pub const fn is_healthy(self) -> bool {
        matches!(self, Self::Healthy)
    }

    /// Severity for comparisons: healthy 0, degraded 1, unhealthy 2; `None` for unknown.
    pub(crate) const fn severity(self) -> Option<u8> {
        match self {
            Self::Healthy => Some(0),
            Self::Degraded => Some(1),
            Self::Unhealthy => Some(2),
            Self::Unknown => None,
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Adds up check statuses, each with whether it is critical, into one status.
///
/// A critical check that is unhealthy makes the whole unhealthy; a failing non-critical check
/// makes it at most degraded; with no check run yet the whole is unknown. Checks not run yet
/// are ignored once at least one has run.
///
/// ```
/// use elf_resilience_monitor::{HealthStatus, aggregate_health};
///
/// let all = [(HealthStatus::Healthy, true), (HealthStatus::Unhealthy, false)];
/// assert_eq!(aggregate_health(all), HealthStatus::Degraded);
/// let all = [(HealthStatus::Unhealthy, true), (HealthStatus::Healthy, false)];
/// assert_eq!(aggregate_health(all), HealthStatus::Unhealthy);
/// assert_eq!(aggregate_health([]), HealthStatus::Unknown);
/// ```
pub fn aggregate_health(statuses: impl IntoIterator<Item = (HealthStatus, bool)>) -> HealthStatus {
    let mut overall = HealthStatus::Unknown;
    for (status, critical) in statuses {
        let contribution = match (status, critical) {
            (HealthStatus::Unknown, _) => continue,
            (HealthStatus::Unhealthy, false) => HealthStatus::Degraded,
            (s, _) => s,
        };
        if worse(contribution, overall) {
            overall = contribution;
        }
    }
    overall
}

/// Whether `a` is worse than `b`, where any known status beats unknown.
fn worse(a: HealthStatus, b: HealthStatus) -> bool {
    match (a.severity(), b.severity()) {
        (Some(x), Some(y)) => x > y,
        (Some(_), None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::HealthStatus::*;
    use super::*;

    #[test]
    fn critical_unhealthy_wins() {
        assert_eq!(aggregate_health([(Healthy, false), (Unhealthy, true), (Degraded, true)]), Unhealthy);
    }

    #[test]
    fn non_critical_failure_is_at_most_degraded() {
        assert_eq!(aggregate_health([(Unhealthy, false), (Healthy, true)]), Degraded);
        assert_eq!(aggregate_health([(Unhealthy, false)]), Degraded);
    }

    #[test]
    fn unknown_only_when_nothing_ran() {
        assert_eq!(aggregate_health([(Unknown, true), (Unknown, false)]), Unknown);
        assert_eq!(aggregate_health([(Unknown, true), (Healthy, false)]), Healthy);
    }
}
