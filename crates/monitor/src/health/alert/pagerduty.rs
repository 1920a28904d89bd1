//! A PagerDuty Events API v2 sink: trigger on trouble, resolve on recovery.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::webhook::{http_client, post_json};
use super::{AlertError, AlertSink, HealthCheckResult};
use crate::health::{AlertReason, HealthStatus, format_rfc3339};

/// The public Events API v2 endpoint.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

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

/// Sends alerts as PagerDuty Events v2.
///
/// ```
/// use elf_resilience_monitor::PagerDutySink;
/// let sink = PagerDutySink::new("ROUTING-KEY").source("api-1").endpoint("http://127.0.0.1:9/v2/enqueue");
/// # let _ = sink;
/// ```
#[derive(Debug, Clone)]
pub struct PagerDutySink {
    routing_key: String,
    source: String,
    endpoint: String,
    client: reqwest::Client,
}

impl PagerDutySink {
    /// A sink for the integration with this routing key, posting to [`PAGERDUTY_EVENTS_URL`]
    /// with source `elf-resilience`.
    pub fn new(routing_key: impl Into<String>) -> Self {
        Self {
            routing_key: routing_key.into(),
            source: "elf-resilience".to_owned(),
            endpoint: PAGERDUTY_EVENTS_URL.to_owned(),
            client: http_client(),
        }
    }

    /// Sets the `payload.source` (host or service name).
    #[must_use]
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Posts to another endpoint (a proxy, or a local receiver in tests).
    #[must_use]
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }
}

impl AlertSink for PagerDutySink {
    fn name(&self) -> &str {
        "pagerduty"
    }
    fn send<'a>(&'a self, alert: &'a HealthCheckResult) -> BoxFuture<'a, Result<(), AlertError>> {
        post_json(&self.client, &self.endpoint, pagerduty_event(alert, &self.routing_key, &self.source))
            .boxed()
    }
}
