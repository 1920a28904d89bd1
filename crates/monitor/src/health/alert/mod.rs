//! Where alerts go: the async callback, a webhook (Slack-compatible), PagerDuty Events v2, a
//! log sink. Each sink has its own bounded queue and task, retries with backoff, and never
//! holds up a check.

mod dispatch;
#[cfg(feature = "http")]
mod http;
mod log;
mod pagerduty;
mod webhook;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::HealthCheckResult;

pub(crate) use dispatch::AlertDispatcher;
#[cfg(feature = "http")]
pub use http::{PagerDutySink, WebhookSink};
pub use log::LogSink;
pub use pagerduty::pagerduty_event;
pub use webhook::slack_payload;

/// Why an alert could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// The receiver answered with a non-success HTTP status.
    #[error("alert receiver answered HTTP {0}")]
    Status(u16),
    /// The request did not reach the receiver or got no answer.
    #[error("alert transport failed: {0}")]
    Transport(String),
}

/// A destination for alerts.
pub trait AlertSink: Send + Sync + fmt::Debug + 'static {
    /// A short name for logs and metrics ("webhook", "pagerduty").
    fn name(&self) -> &str;

    /// Delivers one alert. An `Err` is retried with backoff.
    fn send<'a>(&'a self, alert: &'a HealthCheckResult) -> BoxFuture<'a, Result<(), AlertError>>;
}

/// A shared, type-erased sink.
pub type SharedAlertSink = Arc<dyn AlertSink>;

type Callback = dyn Fn(HealthCheckResult) -> BoxFuture<'static, ()> + Send + Sync;

/// An async callback as a sink, as in `HealthMonitor::new(alert_callback)`.
pub struct CallbackSink {
    callback: Box<Callback>,
}

impl fmt::Debug for CallbackSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackSink")
    }
}

impl CallbackSink {
    /// Wraps an async function of the alerted result.
    pub fn new<F, Fut>(callback: F) -> Self
    where
        F: Fn(HealthCheckResult) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self { callback: Box::new(move |r| callback(r).boxed()) }
    }
}

impl AlertSink for CallbackSink {
    fn name(&self) -> &str {
        "callback"
    }
    fn send<'a>(&'a self, alert: &'a HealthCheckResult) -> BoxFuture<'a, Result<(), AlertError>> {
        (self.callback)(alert.clone()).map(Ok).boxed()
    }
}

/// How failed deliveries are retried: exponential backoff from `base`, doubled each time,
/// capped at `max_delay`, at most `max_attempts` tries in all.
///
/// # Default
///
/// 5 attempts, base 500 ms, max delay 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertRetry {
    /// Tries in all, including the first (at least 1).
    pub max_attempts: u32,
    /// Delay before the second try.
    pub base: Duration,
    /// Longest delay between tries.
    pub max_delay: Duration,
}

impl Default for AlertRetry {
    fn default() -> Self {
        Self { max_attempts: 5, base: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

impl AlertRetry {
    /// The delays between tries, in order.
    ///
    /// ```
    /// use elf_resilience_monitor::AlertRetry;
    /// use std::time::Duration;
    /// let r = AlertRetry { max_attempts: 4, base: Duration::from_secs(1), max_delay: Duration::from_secs(3) };
    /// let d: Vec<_> = r.delays().map(|d| d.as_secs()).collect();
    /// assert_eq!(d, [1, 2, 3]);
    /// ```
    pub fn delays(self) -> impl Iterator<Item = Duration> {
        (0..self.max_attempts.saturating_sub(1))
            .map(move |i| self.base.saturating_mul(2u32.saturating_pow(i)).min(self.max_delay))
    }
}
