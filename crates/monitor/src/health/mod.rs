//! The health monitor: scheduled async checks with timeouts, hysteresis, flap detection,
//! aggregation, history, alerts and `application/health+json`.
//!
//! A [`HealthCheck`] is a named async function run every `interval` and cut at `timeout`; a
//! run that hangs fails as "timed out after …", one that panics fails with the panic message,
//! and the monitor keeps going. Its status changes only after `failure_threshold` consecutive
//! worse runs or `success_threshold` consecutive better ones ([`Hysteresis`]); each change is
//! alerted once, unless the check is flapping ([`FlapDetector`]), which is alerted once when it
//! starts and once when it stops. Alerts go to sinks ([`AlertSink`]: an async callback,
//! `WebhookSink`, `PagerDutySink` (feature `http`), [`LogSink`]), each with its own bounded queue and
//! retries, so a slow receiver never holds up a check.
//!
//! One scheduler task drives every check from a heap of due times; first runs are spread over
//! each interval by a seeded jitter.
//!
//! ```
//! use elf_resilience_monitor::{HealthCheck, HealthMonitor, HealthStatus};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let monitor = HealthMonitor::new(|alert| async move { eprintln!("ALERT {}", alert.summary()) });
//! let check = HealthCheck::builder("database_connections", || async { 12 < 80 })
//!     .interval(Duration::from_secs(60))
//!     .timeout(Duration::from_secs(10))
//!     .critical(true)
//!     .build()
//!     .unwrap();
//! monitor.register_check(check).unwrap();
//! monitor.start_monitoring().await;
//! let result = monitor.run_check_now("database_connections").await.unwrap();
//! assert_eq!(result.status, HealthStatus::Healthy);
//! monitor.stop().await;
//! # }
//! ```

mod alert;
mod builder;
mod check;
mod defaults;
mod entry;
mod flapping;
mod health_json;
mod history;
mod hysteresis;
mod millis;
mod monitor;
mod outcome;
mod report;
mod result;
mod rfc3339;
mod run;
mod scheduler;
mod status;

pub use alert::{
    AlertError, AlertRetry, AlertSink, CallbackSink, LogSink, SharedAlertSink, pagerduty_event, slack_payload,
};
#[cfg(feature = "http")]
pub use alert::{PagerDutySink, WebhookSink};
pub use builder::{DEFAULT_JITTER_SEED, HealthMonitorBuilder};
pub use check::{CheckFn, HealthCheck, HealthCheckBuilder, HealthCheckError};
pub use defaults::{DEFAULT_CHECK_INTERVAL, DEFAULT_CHECK_TIMEOUT, DISK_THRESHOLD, resource_outcome};
pub use flapping::{FLAP_WINDOW, FlapChange, FlapDetector, FlapThresholds, InvalidFlapThresholds};
pub use health_json::{HEALTH_JSON_CONTENT_TYPE, health_json, health_json_status};
pub use history::History;
pub use hysteresis::{Hysteresis, Transition};
pub use monitor::HealthMonitor;
pub use outcome::{CheckOutcome, IntoCheckOutcome};
pub use report::{CheckReport, HealthReport};
pub use result::{AlertReason, HealthCheckResult, HistoryEntry};
pub use rfc3339::format_rfc3339;
pub use scheduler::jitter_fraction;
pub use status::{HealthStatus, aggregate_health};
