//! Building a [`ResourceManager`]: thresholds, probes with their schedules, TTL, clock,
//! quota source and alternatives.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_core::{ResourceType, SharedClock, SystemClock};

use super::entry::ProbeEntry;
use super::error::ResourceManagerError;
use super::manager::{Inner, ResourceManager};
use super::probe::Probe;
use super::quota_source::QuotaSource;
use super::thresholds::{Threshold, Thresholds, type_index};

/// Default sampling interval of a probe.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// Default timeout of one probe sample.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Default time a reading stays fresh.
pub const DEFAULT_READING_TTL: Duration = Duration::from_secs(30);

/// Builds a [`ResourceManager`]; invalid settings are rejected by [`build`](Self::build).
///
/// ```
/// use elf_resilience_core::ResourceType;
/// use elf_resilience_monitor::{ResourceManager, ResourceManagerError};
///
/// let rm = ResourceManager::builder()
///     .thresholds(ResourceType::ApiQuota, 70.0, 90.0)
///     .thresholds(ResourceType::Memory, 80.0, 95.0)
///     .thresholds(ResourceType::Cpu, 85.0, 98.0)
///     .model_alternatives("gpt-4", ["claude-3-opus", "gpt-3.5-turbo"])
///     .build()
///     .unwrap();
/// assert_eq!(rm.thresholds().get(ResourceType::Cpu).critical, 98.0);
///
/// let bad = ResourceManager::builder().thresholds(ResourceType::Cpu, 95.0, 90.0).build();
/// assert!(matches!(bad, Err(ResourceManagerError::InvalidThresholds { .. })));
/// ```
#[derive(Debug)]
pub struct ResourceManagerBuilder {
    thresholds: Thresholds,
    probes: Vec<(Arc<dyn Probe>, Duration, Duration)>,
    ttl: Duration,
    clock: SharedClock,
    quota: Option<Arc<dyn QuotaSource>>,
    alternatives: HashMap<(ResourceType, String), Vec<String>>,
}

impl Default for ResourceManagerBuilder {
    fn default() -> Self {
        Self {
            thresholds: Thresholds::default(),
            probes: Vec::new(),
            ttl: DEFAULT_READING_TTL,
            clock: SystemClock::shared(),
            quota: None,
            alternatives: HashMap::new(),
        }
    }
}

impl ResourceManagerBuilder {
    /// Sets the warning and critical thresholds (percent) of `resource`.
    pub fn thresholds(mut self, resource: ResourceType, warning: f64, critical: f64) -> Self {
        self.thresholds.set(resource, Threshold::new(warning, critical));
        self
    }

    /// Sets only the warning threshold of `resource`.
    pub fn warning_threshold(mut self, resource: ResourceType, warning: f64) -> Self {
        let critical = self.thresholds.get(resource).critical;
        self.thresholds.set(resource, Threshold::new(warning, critical));
        self
    }

    /// Sets only the critical threshold of `resource`.
    pub fn critical_threshold(mut self, resource: ResourceType, critical: f64) -> Self {
        let warning = self.thresholds.get(resource).warning;
        self.thresholds.set(resource, Threshold::new(warning, critical));
        self
    }

    /// Adds a probe sampled every [`DEFAULT_PROBE_INTERVAL`] with [`DEFAULT_PROBE_TIMEOUT`].
    pub fn probe(self, probe: impl Probe) -> Self {
        self.probe_every(probe, DEFAULT_PROBE_INTERVAL, DEFAULT_PROBE_TIMEOUT)
    }

    /// Adds a probe sampled every `interval`, each sample cut at `timeout`.
    pub fn probe_every(self, probe: impl Probe, interval: Duration, timeout: Duration) -> Self {
        self.shared_probe(Arc::new(probe), interval, timeout)
    }

    /// Adds an already shared probe.
    pub fn shared_probe(mut self, probe: Arc<dyn Probe>, interval: Duration, timeout: Duration) -> Self {
        self.probes.push((probe, interval, timeout));
        self
    }

    /// How long a reading stays fresh; older readings read `Unknown` ("stale"). Keep it above
    /// the probes' interval plus timeout.
    pub fn reading_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The clock that dates readings (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The source answering API quota checks per team and model, and taking usage records.
    pub fn quota_source(mut self, source: Arc<dyn QuotaSource>) -> Self {
        self.quota = Some(source);
        self
    }

    /// Alternatives to `model`, best first.
    pub fn model_alternatives<I, S>(self, model: &str, alternatives: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.alternatives(ResourceType::ApiQuota, model, alternatives)
    }

    /// Alternatives to the network endpoint `name`, best first.
    pub fn endpoint_alternatives<I, S>(self, name: &str, alternatives: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.alternatives(ResourceType::Network, name, alternatives)
    }

    /// Alternatives to the database `name`, best first.
    pub fn database_alternatives<I, S>(self, name: &str, alternatives: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.alternatives(ResourceType::Database, name, alternatives)
    }

    /// Alternatives to the resource `name` of type `resource`, best first.
    pub fn alternatives<I, S>(mut self, resource: ResourceType, name: &str, alternatives: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list = alternatives.into_iter().map(Into::into).collect();
        self.alternatives.insert((resource, name.to_owned()), list);
        self
    }

    /// Checks the settings and builds the manager (samplers not started).
    pub fn build(self) -> Result<ResourceManager, ResourceManagerError> {
        self.thresholds.validate()?;
        if self.ttl.is_zero() {
            return Err(ResourceManagerError::ZeroTtl);
        }
        check_probes(&self.probes)?;
        let mut by_type: [Vec<usize>; 8] = Default::default();
        let probes = self.probes.into_iter().enumerate().map(|(i, (probe, interval, timeout))| {
            if let Some(t) = type_index(probe.resource_type()) {
                by_type[t].push(i);
            }
            ProbeEntry::new(probe, interval, timeout)
        });
        let probes = probes.collect();
        let inner = Inner {
            clock: self.clock,
            ttl: self.ttl,
            thresholds: self.thresholds,
            probes,
            by_type,
            quota: self.quota,
            alternatives: self.alternatives,
            history: Mutex::default(),
            usage: Mutex::default(),
            samplers: Mutex::default(),
            coarse_now: AtomicU64::new(0),
            ticking: AtomicBool::new(false),
        };
        Ok(ResourceManager { inner: Arc::new(inner) })
    }
}

fn check_probes(probes: &[(Arc<dyn Probe>, Duration, Duration)]) -> Result<(), ResourceManagerError> {
    let mut seen = HashSet::new();
    for (probe, interval, timeout) in probes {
        let name = probe.name().to_owned();
        if interval.is_zero() || timeout.is_zero() {
            let (interval, timeout) = (*interval, *timeout);
            return Err(ResourceManagerError::InvalidSchedule { name, interval, timeout });
        }
        if !seen.insert((probe.resource_type(), name.clone())) {
            let resource_type = probe.resource_type();
            return Err(ResourceManagerError::DuplicateProbe { resource_type, name });
        }
    }
    Ok(())
}
