//! The seam between the resource manager and whatever measures a resource.
//!
//! A [`Probe`] takes one [`Sample`] of one resource when asked. The manager's samplers call it
//! on its own interval, cut it at its timeout, and turn failures into `Unknown` readings.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use elf_resilience_core::{ResourceStatus, ResourceType};
use serde::Serialize;

/// A boxed, sendable future, as probes return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One measurement of one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// Usage in percent, 0–100 (may exceed 100 for over-commit; the manager clamps for status).
    pub usage_percent: f64,
    /// A status the probe knows better than thresholds do (e.g. `Exhausted` on a hard refusal,
    /// `Critical` for an unreachable endpoint). `None`: derive it from the thresholds.
    pub status_override: Option<ResourceStatus>,
    /// A short human-readable account ("412 MiB of 2 GiB working set", "SELECT 1 in 0.8 ms").
    pub detail: String,
    /// Named figures behind the sample (latency_ms, connections, throttled_ratio, ...).
    pub metrics: Vec<(String, f64)>,
}

impl Sample {
    /// A sample of `usage_percent` with a detail line.
    pub fn new(usage_percent: f64, detail: impl Into<String>) -> Self {
        Self { usage_percent, status_override: None, detail: detail.into(), metrics: Vec::new() }
    }

    /// Forces the status, whatever the thresholds say.
    pub fn with_status(mut self, status: ResourceStatus) -> Self {
        self.status_override = Some(status);
        self
    }

    /// Adds a named figure.
    pub fn with_metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.push((name.into(), value));
        self
    }
}

/// Why a probe could not measure its resource. The manager reports it as `Unknown` with this
/// as the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The resource is not there (not in a container, no such database configured, ...).
    #[error("not available: {0}")]
    Absent(String),
    /// The probe tried and failed.
    #[error("probe failed: {0}")]
    Failed(String),
    /// The probe did not answer within its timeout.
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
}

/// Measures one resource. Implementations must not block the async runtime: blocking reads
/// belong in `tokio::task::spawn_blocking`.
pub trait Probe: Send + Sync + fmt::Debug + 'static {
    /// Which resource this probe measures.
    fn resource_type(&self) -> ResourceType;

    /// A name unique among the probes of its type ("host", "cgroup", "postgres:main", ...).
    fn name(&self) -> &str;

    /// Takes one sample.
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>>;
}
