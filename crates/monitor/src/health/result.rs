//! The result of one run of a check, as the report, the history and the alert sinks see it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::{HealthStatus, rfc3339};

/// Why a result is being sent to the alert sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertReason {
    /// The check's status changed (after hysteresis).
    Transition,
    /// The check started flapping; transitions are not alerted until it stops.
    FlappingStarted,
    /// The check stopped flapping; the result carries its settled status.
    FlappingStopped,
}

impl AlertReason {
    /// `transition`, `flapping_started` or `flapping_stopped`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Transition => "transition",
            Self::FlappingStarted => "flapping_started",
            Self::FlappingStopped => "flapping_stopped",
        }
    }
}

/// One run of one check.
///
/// `status` is what this run observed; `check_status` is the check's status after
/// hysteresis. In an alert the two are equal for a transition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheckResult {
    /// The check.
    pub name: String,
    /// What this run observed: Healthy, Degraded or Unhealthy.
    pub status: HealthStatus,
    /// The check's status after this run, with hysteresis.
    pub check_status: HealthStatus,
    /// The check's status before this run.
    pub previous_status: HealthStatus,
    /// Whether the check is critical.
    pub critical: bool,
    /// The run's message ("timed out after 5s", "panicked: ...").
    pub message: String,
    /// The measured value, if any.
    pub observed_value: Option<f64>,
    /// Its unit.
    pub observed_unit: Option<String>,
    /// How long the run took; serialized as `duration_ms`, a float of milliseconds.
    #[serde(rename = "duration_ms", serialize_with = "super::millis::serialize")]
    pub duration: Duration,
    /// When the run finished (wall clock).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub time: SystemTime,
    /// Whether the check is flapping after this run.
    pub flapping: bool,
    /// Set when this result is an alert.
    pub alert: Option<AlertReason>,
    /// The check's tags.
    pub tags: BTreeMap<String, String>,
}

impl HealthCheckResult {
    /// A one-line summary, as alert sinks send it.
    ///
    /// ```
    /// # use elf_resilience_monitor::{HealthCheckResult, HealthStatus};
    /// # use std::time::{Duration, SystemTime};
    /// let r = HealthCheckResult {
    ///     name: "db".into(), status: HealthStatus::Unhealthy, check_status: HealthStatus::Unhealthy,
    ///     previous_status: HealthStatus::Healthy, critical: true, message: "refused".into(),
    ///     observed_value: None, observed_unit: None, duration: Duration::ZERO,
    ///     time: SystemTime::UNIX_EPOCH, flapping: false, alert: None, tags: Default::default(),
    /// };
    /// assert_eq!(r.summary(), "db is unhealthy (was healthy): refused");
    /// ```
    pub fn summary(&self) -> String {
        match self.alert {
            Some(AlertReason::FlappingStarted) => format!("{} is flapping: {}", self.name, self.message),
            Some(AlertReason::FlappingStopped) => {
                format!("{} stopped flapping, now {}: {}", self.name, self.check_status, self.message)
            }
            _ => format!(
                "{} is {} (was {}): {}",
                self.name, self.check_status, self.previous_status, self.message
            ),
        }
    }
}

/// One entry of a check's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// When the run finished.
    #[serde(serialize_with = "rfc3339::serialize")]
    pub time: SystemTime,
    /// What it observed.
    pub status: HealthStatus,
    /// Its message.
    pub message: Cow<'static, str>,
    /// How long it took; serialized as `duration_ms`, a float of milliseconds.
    #[serde(rename = "duration_ms", serialize_with = "super::millis::serialize")]
    pub duration: Duration,
}
