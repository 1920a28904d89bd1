//! Connection-pool figures as a database probe, for any pool that reports its size.

use std::fmt;

use elf_resilience_core::ResourceType;

use crate::resources::{BoxFuture, Probe, ProbeError, Sample};

/// A pool's figures at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open now.
    pub size: usize,
    /// Open connections not in use.
    pub idle: usize,
    /// The most connections the pool opens.
    pub max: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

impl PoolStats {
    /// Connections in use plus callers waiting, over the maximum: `(size − idle + waiting) / max`.
    /// Above 100 when callers queue. `None` for a pool of no connections.
    ///
    /// ```
    /// use elf_resilience_monitor::probes::PoolStats;
    ///
    /// let stats = PoolStats { size: 10, idle: 2, max: 10, waiting: 3 };
    /// assert_eq!(stats.usage_percent(), Some(110.0));
    /// ```
    pub fn usage_percent(&self) -> Option<f64> {
        let busy = self.size.saturating_sub(self.idle) + self.waiting;
        (self.max > 0).then(|| busy as f64 * 100.0 / self.max as f64)
    }
}

/// deadpool's status: `available` objects are the idle ones.
#[cfg(feature = "postgres")]
impl From<deadpool::Status> for PoolStats {
    fn from(s: deadpool::Status) -> Self {
        Self { size: s.size, idle: s.available, max: s.max_size, waiting: s.waiting }
    }
}

/// A database probe reading a pool's figures through a closure, e.g. `move || pool.status().into()`
/// for a deadpool pool.
///
/// ```
/// use elf_resilience_monitor::Probe;
/// use elf_resilience_monitor::probes::{PoolProbe, PoolStats};
///
/// let probe = PoolProbe::new("main", || PoolStats { size: 4, idle: 1, max: 8, waiting: 0 });
/// assert_eq!(probe.name(), "pool:main");
/// ```
pub struct PoolProbe<F> {
    name: String,
    stats: F,
}

impl<F> fmt::Debug for PoolProbe<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolProbe").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<F: Fn() -> PoolStats + Send + Sync + 'static> PoolProbe<F> {
    /// A probe named `name` reading `stats`.
    pub fn new(name: &str, stats: F) -> Self {
        Self { name: format!("pool:{name}"), stats }
    }

    fn measure(&self) -> Result<Sample, ProbeError> {
        let s = (self.stats)();
        let usage = s
            .usage_percent()
            .ok_or_else(|| ProbeError::Failed(format!("{}: pool maximum is 0", self.name)))?;
        let detail =
            format!("{} of {} connections busy, {} waiting", s.size.saturating_sub(s.idle), s.max, s.waiting);
        Ok(Sample::new(usage, detail)
            .with_metric("size", s.size as f64)
            .with_metric("idle", s.idle as f64)
            .with_metric("max", s.max as f64)
            .with_metric("waiting", s.waiting as f64))
    }
}

impl<F: Fn() -> PoolStats + Send + Sync + 'static> Probe for PoolProbe<F> {
    fn resource_type(&self) -> ResourceType {
        ResourceType::Database
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        let result = self.measure();
        Box::pin(async move { result })
    }
}
