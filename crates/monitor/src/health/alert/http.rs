//! The sinks that POST over HTTP (feature `http`): a webhook (Slack-compatible) and PagerDuty
//! Events v2.

use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::pagerduty::pagerduty_event;
use super::webhook::slack_payload;
use super::{AlertError, AlertSink, HealthCheckResult};

/// How long one POST may take unless the sink says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The public Events API v2 endpoint.
const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

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
        Self { url: url.into(), channel: None, client: http_client(DEFAULT_TIMEOUT) }
    }

    /// How long one POST may take, connecting included, before it fails (and is retried):
    /// a receiver that accepts and never answers costs at most this per try.
    ///
    /// ```
    /// use elf_resilience_monitor::WebhookSink;
    /// use std::time::Duration;
    /// let sink = WebhookSink::new("http://127.0.0.1:9/hooks").timeout(Duration::from_secs(2));
    /// # let _ = sink;
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.client = http_client(timeout);
        self
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

fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap_or_default()
}

async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> Result<(), AlertError> {
    let response =
        client.post(url).json(&body).send().await.map_err(|e| AlertError::Transport(e.to_string()))?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(AlertError::Status(status.as_u16())) }
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
    /// A sink for the integration with this routing key, posting to the public endpoint
    /// (`https://events.pagerduty.com/v2/enqueue`) with source `elf-resilience`.
    pub fn new(routing_key: impl Into<String>) -> Self {
        Self {
            routing_key: routing_key.into(),
            source: "elf-resilience".to_owned(),
            endpoint: PAGERDUTY_EVENTS_URL.to_owned(),
            client: http_client(DEFAULT_TIMEOUT),
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
