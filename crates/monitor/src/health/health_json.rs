//! The report as `application/health+json` (draft-inadarei-api-health-check) with its HTTP
//! status.

use serde_json::{Map, Value, json};

use super::{CheckReport, HealthReport, HealthStatus, format_rfc3339};

/// The media type of [`health_json`]'s body.
pub const HEALTH_JSON_CONTENT_TYPE: &str = "application/health+json";

/// `pass`, `warn` or `fail` for a status (Unknown reads as `warn`).
pub const fn health_json_status(status: HealthStatus) -> &'static str {
    match status {
        HealthStatus::Healthy => "pass",
        HealthStatus::Unhealthy => "fail",
        _ => "warn",
    }
}

/// The HTTP status and `application/health+json` body for a report: 503 when unhealthy,
/// 200 otherwise. Each check is keyed `name:measurement` (or `name` without a measurement).
///
/// ```
/// use elf_resilience_monitor::{HealthMonitor, HealthCheck, CheckOutcome, health_json};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let monitor = HealthMonitor::default();
/// let cpu = HealthCheck::builder("cpu", || async { CheckOutcome::healthy("ok").with_observed(12.5, "percent") })
///     .measurement("utilization").critical(true).failure_threshold(1).build().unwrap();
/// monitor.register_check(cpu).unwrap();
/// monitor.run_check_now("cpu").await.unwrap();
/// let (code, body) = health_json(&monitor.get_health_report());
/// assert_eq!(code, 200);
/// assert_eq!(body["status"], "pass");
/// assert_eq!(body["checks"]["cpu:utilization"][0]["observedValue"], 12.5);
/// # }
/// ```
pub fn health_json(report: &HealthReport) -> (u16, Value) {
    let checks: Map<String, Value> = report
        .checks
        .iter()
        .map(|(name, c)| (key(name, c), Value::Array(vec![component(name, c)])))
        .collect();
    let code = if report.status == HealthStatus::Unhealthy { 503 } else { 200 };
    (code, json!({ "status": health_json_status(report.status), "checks": checks }))
}

fn key(name: &str, c: &CheckReport) -> String {
    match &c.measurement {
        Some(m) => format!("{name}:{m}"),
        None => name.to_owned(),
    }
}

fn component(name: &str, c: &CheckReport) -> Value {
    let mut v = json!({ "componentId": name, "status": health_json_status(c.status) });
    let fields = [
        ("componentType", c.component_type.clone().map(Value::from)),
        ("observedValue", c.observed_value.map(Value::from)),
        ("observedUnit", c.observed_unit.clone().map(Value::from)),
        ("time", c.last_run.map(|t| Value::from(format_rfc3339(t)))),
        (
            "output",
            (c.status != HealthStatus::Healthy && !c.message.is_empty()).then(|| c.message.clone().into()),
        ),
    ];
    for (k, val) in fields {
        if let Some(val) = val {
            v[k] = val;
        }
    }
    v
}
