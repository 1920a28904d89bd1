//! The health report: overall status and, per check, where it stands and how it got there.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::entry::Entry;
use super::{HealthStatus, HistoryEntry, rfc3339};

/// Where one check stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// Status after hysteresis.
    pub status: HealthStatus,
    /// Whether the check is critical.
    pub critical: bool,
    /// The last run's message (empty if never run).
    pub message: String,
    /// When it last ran.
    #[serde(serialize_with = "serialize_opt_time")]
    pub last_run: Option<SystemTime>,
    /// How long the last run took; serialized as `duration_ms`, a float of milliseconds.
    #[serde(rename = "duration_ms", serialize_with = "super::millis::serialize_opt")]
    pub duration: Option<Duration>,
    /// Consecutive runs that were not healthy.
    pub consecutive_failures: u32,
    /// Consecutive healthy runs.
    pub consecutive_successes: u32,
    /// Whether the check is flapping.
    pub flapping: bool,
    /// The weighted percent state change over the last 21 runs.
    pub percent_state_change: f64,
    /// The last measured value.
    pub observed_value: Option<f64>,
    /// Its unit.
    pub observed_unit: Option<String>,
    /// The measurement name for health+json.
    pub measurement: Option<String>,
    /// The component type for health+json.
    pub component_type: Option<String>,
    /// The check's tags.
    pub tags: BTreeMap<String, String>,
    /// Recent runs, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// The whole picture: overall status and every check by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// The aggregated status.
    pub status: HealthStatus,
    /// When the report was made.
    #[serde(serialize_with = "rfc3339::serialize")]
    pub time: SystemTime,
    /// Each check by name.
    pub checks: BTreeMap<String, CheckReport>,
}

impl CheckReport {
    pub(crate) fn of(entry: &Entry) -> Self {
        let c = &entry.check;
        let st = entry.lock();
        let last = st.history.last();
        Self {
            status: st.hysteresis.status,
            critical: c.critical,
            message: last.map(|r| r.message.to_string()).unwrap_or_default(),
            last_run: last.map(|r| r.time),
            duration: last.map(|r| r.duration),
            consecutive_failures: st.hysteresis.consecutive_failures,
            consecutive_successes: st.hysteresis.consecutive_successes,
            flapping: st.flap.is_flapping(),
            percent_state_change: st.flap.percent_state_change(),
            observed_value: st.observed_value,
            observed_unit: st.observed_unit.clone(),
            measurement: c.measurement.clone(),
            component_type: c.component_type.clone(),
            tags: c.tags.clone(),
            history: st.history.iter().cloned().collect(),
        }
    }
}

fn serialize_opt_time<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339::serialize(t, s),
        None => s.serialize_none(),
    }
}
