//! Default checks (CPU, memory, disk, API quota) read from the resource manager with its
//! thresholds.

use std::time::Duration;

use elf_resilience_core::{Context, ResourceStatus, ResourceType};

use super::{CheckOutcome, HealthCheck, HealthCheckError, HealthMonitor};
use crate::resources::{ResourceManager, ResourceReading, Threshold};

/// How often the default checks run.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(30);
/// How long a default check may take (it samples its probes first).
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Disk thresholds (the resource manager has none for disks): warning 85 %, critical 95 %.
pub const DISK_THRESHOLD: Threshold = Threshold::new(85.0, 95.0);

/// Turns a resource reading into a check outcome: warning is degraded, critical or exhausted
/// unhealthy, unknown degraded (with the reason).
///
/// ```
/// use elf_resilience_core::{ResourceStatus, ResourceType};
/// use elf_resilience_monitor::{HealthStatus, ResourceReading, Threshold, resource_outcome};
///
/// let r = ResourceReading { status: ResourceStatus::Warning, usage_percent: 85.0, reason: None };
/// let o = resource_outcome(ResourceType::Memory, &r, Threshold::new(80.0, 95.0));
/// assert_eq!(o.status, HealthStatus::Degraded);
/// assert_eq!(o.message, "memory warning at 85.0% (warning 80%, critical 95%)");
/// ```
pub fn resource_outcome(resource: impl std::fmt::Display, r: &ResourceReading, t: Threshold) -> CheckOutcome {
    let mut message = format!(
        "{resource} {} at {:.1}% (warning {}%, critical {}%)",
        r.status, r.usage_percent, t.warning, t.critical
    );
    if let Some(reason) = &r.reason {
        message = format!("{message}: {reason}");
    }
    let outcome = match r.status {
        ResourceStatus::Healthy => CheckOutcome::healthy(message),
        ResourceStatus::Warning | ResourceStatus::Unknown => CheckOutcome::degraded(message),
        _ => CheckOutcome::unhealthy(message),
    };
    outcome.with_observed(r.usage_percent, "percent")
}

impl HealthMonitor {
    /// Registers `cpu`, `memory` and `api_quota` checks that sample the resource manager's
    /// probes and judge them by its thresholds, and a `disk` check on the root file system
    /// ([`DISK_THRESHOLD`]). A resource with no probe in the manager is skipped. Memory and
    /// disk are critical. Returns the names registered.
    pub fn register_default_checks(&self, rm: &ResourceManager) -> Result<Vec<String>, HealthCheckError> {
        let mut names = Vec::new();
        for (resource, critical) in
            [(ResourceType::Cpu, false), (ResourceType::Memory, true), (ResourceType::ApiQuota, false)]
        {
            if !rm.probe_names(resource).is_empty() {
                self.register_check(resource_check(rm.clone(), resource, critical)?)?;
                names.push(resource.as_str().to_owned());
            }
        }
        self.register_check(disk_check()?)?;
        names.push("disk".to_owned());
        Ok(names)
    }
}

fn resource_check(
    rm: ResourceManager,
    resource: ResourceType,
    critical: bool,
) -> Result<HealthCheck, HealthCheckError> {
    HealthCheck::builder(resource.as_str(), move || {
        let rm = rm.clone();
        async move {
            rm.refresh(resource).await;
            resource_outcome(resource, &rm.reading(resource, &Context::new()), rm.thresholds().get(resource))
        }
    })
    .interval(DEFAULT_CHECK_INTERVAL)
    .timeout(DEFAULT_CHECK_TIMEOUT)
    .critical(critical)
    .measurement("utilization")
    .component_type("system")
    .tag("resource", resource.as_str())
    .build()
}

fn disk_check() -> Result<HealthCheck, HealthCheckError> {
    HealthCheck::builder("disk", || async {
        let usage = tokio::task::spawn_blocking(root_disk_usage).await.ok().flatten();
        let reading = match usage {
            Some(u) => {
                ResourceReading { status: DISK_THRESHOLD.status_for(u), usage_percent: u, reason: None }
            }
            None => ResourceReading {
                status: ResourceStatus::Unknown,
                usage_percent: 0.0,
                reason: Some("no disk found".to_owned()),
            },
        };
        resource_outcome("disk", &reading, DISK_THRESHOLD)
    })
    .interval(DEFAULT_CHECK_INTERVAL)
    .timeout(DEFAULT_CHECK_TIMEOUT)
    .critical(true)
    .measurement("utilization")
    .component_type("system")
    .tag("resource", "disk")
    .build()
}

/// Used space of the root file system (or the largest disk), in percent.
fn root_disk_usage() -> Option<f64> {
    let disks = sysinfo::Disks::new_with_refreshed_list();
    let root = disks.iter().find(|d| d.mount_point() == std::path::Path::new("/"));
    let disk = root.or_else(|| disks.iter().max_by_key(|d| d.total_space()))?;
    let total = disk.total_space();
    (total > 0).then(|| 100.0 * (total - disk.available_space().min(total)) as f64 / total as f64)
}
