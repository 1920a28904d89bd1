//! The resource report: the system block, each resource's reading, peak and average usage
//! over a period, and usage totals per team and model.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use elf_resilience_core::{Context, ResourceStatus, ResourceType};
use serde::Serialize;

use super::entry::ProbeEntry;
use super::manager::{ResourceManager, lock};
use super::quota_source::UsageTotal;
use super::thresholds::type_index;

/// The host: the seed's `report["system"]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemSummary {
    /// Logical CPUs.
    pub cpu_count: usize,
    /// Total RAM in GiB.
    pub memory_total_gb: f64,
    /// Used space of the root file system (or the largest disk), in percent.
    pub disk_usage_percent: f64,
}

impl SystemSummary {
    /// Reads the host's figures through sysinfo.
    pub fn current() -> Self {
        let mut sys = sysinfo::System::new();
        sys.refresh_memory();
        let cpu_count = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpu_count = sysinfo::System::physical_core_count().map_or(cpu_count, |p| p.max(cpu_count));
        Self {
            cpu_count,
            memory_total_gb: sys.total_memory() as f64 / f64::from(1u32 << 30),
            disk_usage_percent: root_disk_usage(),
        }
    }
}

fn root_disk_usage() -> f64 {
    let disks = sysinfo::Disks::new_with_refreshed_list();
    let root = disks.iter().find(|d| d.mount_point() == std::path::Path::new("/"));
    let disk = root.or_else(|| disks.iter().max_by_key(|d| d.total_space()));
    disk.filter(|d| d.total_space() > 0).map_or(0.0, |d| {
        let used = d.total_space().saturating_sub(d.available_space());
        used as f64 * 100.0 / d.total_space() as f64
    })
}

/// One probe's last reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeSummary {
    /// The probe's name.
    pub name: String,
    /// Its last status (`Unknown` when stale or never sampled).
    pub status: ResourceStatus,
    /// Its last usage.
    pub usage_percent: f64,
    /// Why it is unknown, when it is.
    pub reason: Option<String>,
    /// The probe's account of its sample.
    pub detail: String,
    /// Figures behind the sample.
    pub metrics: BTreeMap<String, f64>,
    /// Wall time of the sample, seconds since the Unix epoch.
    pub sampled_at_unix: Option<f64>,
}

/// One resource type in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceSummary {
    /// The type.
    pub resource_type: ResourceType,
    /// Its current status: the worst of its probes' known readings, `Unknown` only when none
    /// is known (the rule of [`ResourceManager::check_resource`]).
    pub status: ResourceStatus,
    /// Its current usage.
    pub usage_percent: f64,
    /// Why the status is unknown, when it is; beside a known status, the probes that are
    /// unknown, by name.
    pub reason: Option<String>,
    /// Peak usage over the period.
    pub peak_usage_percent: Option<f64>,
    /// Average usage over the period.
    pub average_usage_percent: Option<f64>,
    /// Samples behind the peak and average.
    pub samples: u64,
    /// Usage recorded with `record_usage` over the period.
    pub recorded_usage: f64,
    /// Each probe of the type.
    pub probes: Vec<ProbeSummary>,
}

/// The seed's `get_resource_report(hours)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceReport {
    /// The period covered, in hours.
    pub period_hours: f64,
    /// When the report was made, seconds since the Unix epoch.
    pub generated_at_unix: f64,
    /// The host.
    pub system: SystemSummary,
    /// Every resource type, in [`ResourceType::ALL`] order.
    pub resources: Vec<ResourceSummary>,
    /// API usage per team over the period.
    pub usage_by_team: BTreeMap<String, f64>,
    /// API usage per model over the period.
    pub usage_by_model: BTreeMap<String, f64>,
}

impl ResourceSummary {
    /// Why the resource reads as it does: the manager's reason, else for a pressured resource
    /// the details of its probes at that status, each after its name
    /// (`postgres:main: app@db:5432/app: connect: ... Connection refused`).
    pub fn why(&self) -> Option<String> {
        if self.reason.is_some() || !self.status.is_pressured() {
            return self.reason.clone();
        }
        let details: Vec<String> = self
            .probes
            .iter()
            .filter(|p| p.status == self.status && !p.detail.is_empty())
            .map(|p| format!("{}: {}", p.name, p.detail))
            .collect();
        (!details.is_empty()).then(|| details.join("; "))
    }
}

impl ResourceReport {
    /// The entry of `resource`.
    pub fn resource(&self, resource: ResourceType) -> Option<&ResourceSummary> {
        self.resources.iter().find(|r| r.resource_type == resource)
    }
}

impl ResourceManager {
    /// The report over the last `hours` hours.
    pub fn get_resource_report(&self, hours: u32) -> ResourceReport {
        self.resource_report(Duration::from_secs(u64::from(hours) * 3600))
    }

    /// The report over the last `period`.
    pub fn resource_report(&self, period: Duration) -> ResourceReport {
        let since = self.inner.clock.now_nanos().saturating_sub(super::nanos(period));
        let resources = ResourceType::ALL.iter().map(|&t| self.summarize(t, since)).collect();
        let totals = self.usage_totals(period, since);
        ResourceReport {
            period_hours: period.as_secs_f64() / 3600.0,
            generated_at_unix: unix_seconds(self.inner.clock.wall()),
            system: SystemSummary::current(),
            resources,
            usage_by_team: group(&totals, |t| t.team.as_deref()),
            usage_by_model: group(&totals, |t| t.model.as_deref()),
        }
    }

    /// The entry of `resource` in the report over the last `period`, without the rest of the
    /// report (no host sampling): what a health check of one resource reads.
    pub fn resource_summary(&self, resource: ResourceType, period: Duration) -> ResourceSummary {
        self.summarize(resource, self.inner.clock.now_nanos().saturating_sub(super::nanos(period)))
    }

    fn summarize(&self, resource: ResourceType, since: u64) -> ResourceSummary {
        let now = self.inner.clock.now_nanos();
        let current = self.reading(resource, &Context::new());
        let stats = type_index(resource).and_then(|i| lock(&self.inner.history)[i].stats(since));
        let probes = self.inner.entries(resource).map(|(_, e)| probe_summary(e, now)).collect();
        ResourceSummary {
            resource_type: resource,
            status: current.status,
            usage_percent: current.usage_percent,
            reason: current.reason,
            peak_usage_percent: stats.map(|s| s.peak),
            average_usage_percent: stats.map(|s| s.average),
            samples: stats.map_or(0, |s| s.samples),
            recorded_usage: lock(&self.inner.usage).total(resource, since),
            probes,
        }
    }

    fn usage_totals(&self, period: Duration, since: u64) -> Vec<UsageTotal> {
        let from_source = self.inner.quota.as_ref().map(|q| q.totals(period)).unwrap_or_default();
        if !from_source.is_empty() {
            return from_source;
        }
        lock(&self.inner.usage).totals(ResourceType::ApiQuota, since)
    }
}

fn probe_summary(entry: &ProbeEntry, now: u64) -> ProbeSummary {
    use super::slot::SlotRead;
    let last = entry.last().clone();
    let (status, usage_percent, reason) = match entry.slot.load(now) {
        SlotRead::Fresh(s, u) => (s, u, last.reason),
        SlotRead::Stale => (ResourceStatus::Unknown, 0.0, Some("stale".to_owned())),
        SlotRead::Empty => (ResourceStatus::Unknown, 0.0, Some("no reading yet".to_owned())),
    };
    ProbeSummary {
        name: entry.probe.name().to_owned(),
        status,
        usage_percent,
        reason,
        detail: last.detail,
        metrics: last.metrics.into_iter().collect(),
        sampled_at_unix: last.at.map(unix_seconds),
    }
}

fn unix_seconds(t: std::time::SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn group(totals: &[UsageTotal], key: impl Fn(&UsageTotal) -> Option<&str>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for t in totals {
        *out.entry(key(t).unwrap_or("unknown").to_owned()).or_default() += t.amount;
    }
    out
}
