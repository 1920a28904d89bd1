//! A webhook sink: JSON POST with a Slack-compatible `text`.

use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{AlertError, AlertSink, HealthCheckResult};

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

/// POSTs each alert as JSON to a URL (a Slack incoming webhook, or any receiver).
///
/// Plain `http://` works out of the box; for `https://` enable a TLS feature of `reqwest` in
/// the final binary (for example `rustls-tls`).
///
/// ```
/// use elf_resilience_monitor::WebhookSink;
/// let sink = WebhookSink::new("http://127.0.0.1:9/hooks").channel("#infrastructure");
/// # let _ = sink;
/// ```
#[derive(Debug, Clone)]
pub struct WebhookSink {
    url: String,
    channel: Option<String>,
    client: reqwest::Client,
}

impl WebhookSink {
    /// A sink posting to `url`, with a 10 s request timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), channel: None, client: http_client() }
    }

    /// Sets Slack's `channel` field.
    #[must_use]
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }
}

impl AlertSink for WebhookSink {
    fn name(&self) -> &str {
        "webhook"
    }
    fn send<'a>(&'a self, alert: &'a HealthCheckResult) -> BoxFuture<'a, Result<(), AlertError>> {
        post_json(&self.client, &self.url, slack_payload(alert, self.channel.as_deref())).boxed()
    }
}

pub(super) fn http_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default()
}

pub(super) async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> Result<(), AlertError> {
    let response =
        client.post(url).json(&body).send().await.map_err(|e| AlertError::Transport(e.to_string()))?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(AlertError::Status(status.as_u16())) }
}
