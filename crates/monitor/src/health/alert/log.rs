//! A sink that writes alerts as `tracing` events.

use futures_util::future::{BoxFuture, FutureExt, ready};

use super::{AlertError, AlertSink, HealthCheckResult};
use crate::health::HealthStatus;

/// Logs each alert: `error` for unhealthy, `warn` for degraded or flapping, `info` otherwise.
///
/// ```
/// use elf_resilience_monitor::{HealthMonitor, LogSink};
/// let monitor = HealthMonitor::builder().sink(LogSink).build();
/// # let _ = monitor;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSink;

impl AlertSink for LogSink {
    fn name(&self) -> &str {
        "log"
    }
    fn send<'a>(&'a self, alert: &'a HealthCheckResult) -> BoxFuture<'a, Result<(), AlertError>> {
        let summary = alert.summary();
        match alert.check_status {
            HealthStatus::Unhealthy => {
                tracing::error!(check = %alert.name, critical = alert.critical, "{summary}")
            }
            _ if alert.flapping => tracing::warn!(check = %alert.name, "{summary}"),
            HealthStatus::Degraded => tracing::warn!(check = %alert.name, "{summary}"),
            _ => tracing::info!(check = %alert.name, "{summary}"),
        }
        ready(Ok(())).boxed()
    }
}
