//! The webhook body: JSON with a Slack-compatible `text`.

use serde_json::{Value, json};

use super::HealthCheckResult;

/// The webhook body: Slack's `text` (and `channel`, if set), plus the result's fields for
/// receivers that want them.
///
/// ```
/// # use elf_resilience_monitor::{HealthCheckResult, HealthStatus, slack_payload};
/// # use std::time::{Duration, SystemTime};
/// # let r = HealthCheckResult {
/// #     name: "cache".into(), status: HealthStatus::Degraded, check_status: HealthStatus::Degraded,
/// #     previous_status: HealthStatus::Healthy, critical: false, message: "slow".into(),
/// #     observed_value: None, observed_unit: None, duration: Duration::ZERO,
/// #     time: SystemTime::UNIX_EPOCH, flapping: false, alert: None, tags: Default::default(),
/// # };
/// let body = slack_payload(&r, Some("#infrastructure"));
/// assert_eq!(body["text"], "cache is degraded (was healthy): slow");
/// assert_eq!(body["channel"], "#infrastructure");
/// ```
pub fn slack_payload(alert: &HealthCheckResult, channel: Option<&str>) -> Value {
    let mut body = json!({
        "text": alert.summary(),
        "check": alert.name,
        "status": alert.check_status,
        "previous_status": alert.previous_status,
        "critical": alert.critical,
        "message": alert.message,
        "flapping": alert.flapping,
        "reason": alert.alert.map(|r| r.as_str()),
    });
    if let Some(channel) = channel {
        body["channel"] = json!(channel);
    }
    body
}
