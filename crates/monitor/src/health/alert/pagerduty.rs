//! The PagerDuty Events API v2 event: trigger on trouble, resolve on recovery.

use serde_json::{Value, json};

use super::HealthCheckResult;
use crate::health::{AlertReason, HealthStatus, format_rfc3339};

/// The Events v2 body for an alert: `trigger` unless the check is healthy (then `resolve`),
/// deduplicated per check; severity `critical` for a critical unhealthy check, `error` for
/// another unhealthy one, `warning` for degraded or flapping, `info` otherwise.
///
/// ```
/// # use elf_resilience_monitor::{HealthCheckResult, HealthStatus, pagerduty_event};
/// # use std::time::{Duration, SystemTime};
/// # let r = HealthCheckResult {
/// #     name: "db".into(), status: HealthStatus::Unhealthy, check_status: HealthStatus::Unhealthy,
/// #     previous_status: HealthStatus::Healthy, critical: true, message: "refused".into(),
/// #     observed_value: None, observed_unit: None, duration: Duration::ZERO,
/// #     time: SystemTime::UNIX_EPOCH, flapping: false, alert: None, tags: Default::default(),
/// # };
/// let e = pagerduty_event(&r, "KEY", "api-1");
/// assert_eq!(e["event_action"], "trigger");
/// assert_eq!(e["payload"]["severity"], "critical");
/// assert_eq!(e["dedup_key"], "elf-health:db");
/// ```
pub fn pagerduty_event(alert: &HealthCheckResult, routing_key: &str, source: &str) -> Value {
    let action = if alert.check_status.is_healthy() && alert.alert != Some(AlertReason::FlappingStarted) {
        "resolve"
    } else {
        "trigger"
    };
    json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": format!("elf-health:{}", alert.name),
        "payload": {
            "summary": alert.summary(),
            "source": source,
            "severity": severity(alert),
            "timestamp": format_rfc3339(alert.time),
            "component": alert.name,
            "custom_details": {
                "message": alert.message,
                "previous_status": alert.previous_status,
                "observed_value": alert.observed_value,
                "observed_unit": alert.observed_unit,
                "flapping": alert.flapping,
            },
        },
    })
}

fn severity(alert: &HealthCheckResult) -> &'static str {
    match alert.check_status {
        _ if alert.flapping => "warning",
        HealthStatus::Unhealthy if alert.critical => "critical",
        HealthStatus::Unhealthy => "error",
        HealthStatus::Degraded => "warning",
        _ => "info",
    }
}
