//! The resource manager: thresholds, probes and their last readings, alternatives, usage.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use elf_resilience_core::{Context, ResourceStatus, ResourceType, SharedClock};
use tokio::task::JoinHandle;

use super::aggregate::known;
use super::builder::ResourceManagerBuilder;
use super::entry::ProbeEntry;
use super::history::History;
use super::quota_source::QuotaSource;
use super::slot::SlotRead;
use super::thresholds::{Thresholds, type_index};
use super::usage::UsageLog;

/// How one resource stands, with the reason when it is not plainly measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResourceReading {
    /// The status.
    pub status: ResourceStatus,
    /// Usage in percent.
    pub usage_percent: f64,
    /// Why the status is `Unknown` (or forced), when there is something to say; beside a
    /// known reading, every probe of the type that is unknown, by name.
    pub reason: Option<String>,
}

/// Watches the eight resource types through probes and answers, cheaply and synchronously,
/// how each stands.
///
/// Readings come from samplers started with [`start`](Self::start) (one tokio task per
/// probe, each with its own interval, cut at its timeout) or from [`refresh`](Self::refresh).
/// A probe that fails or times out reads `Unknown` with the reason; a reading older than the
/// TTL reads `Unknown` ("stale"), never a stale `Healthy`.
///
/// ```
/// use elf_resilience_core::{Context, ResourceStatus, ResourceType};
/// use elf_resilience_monitor::ResourceManager;
///
/// let rm = ResourceManager::builder().build().unwrap();
/// let (status, usage) = rm.check_resource(ResourceType::Database, &Context::new());
/// assert_eq!((status, usage), (ResourceStatus::Unknown, 0.0)); // no database probe
/// ```
#[derive(Debug, Clone)]
pub struct ResourceManager {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) clock: SharedClock,
    pub(crate) ttl: Duration,
    pub(crate) thresholds: Thresholds,
    pub(crate) probes: Vec<ProbeEntry>,
    pub(crate) by_type: [Vec<usize>; 8],
    pub(crate) quota: Option<Arc<dyn QuotaSource>>,
    pub(crate) alternatives: HashMap<(ResourceType, String), Vec<String>>,
    pub(crate) history: Mutex<[History; 8]>,
    pub(crate) usage: Mutex<UsageLog>,
    pub(crate) samplers: Mutex<Vec<JoinHandle<()>>>,
    /// The clock's time as last stored by the ticker, while it runs.
    pub(crate) coarse_now: AtomicU64,
    /// Whether the ticker runs, so `coarse_now` may stand in for a clock read.
    pub(crate) ticking: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.samplers.get_mut().map(|s| s.drain(..).for_each(|h| h.abort())).ok();
    }
}

/// The context tag that picks one probe of a type by name.
pub(crate) fn selector_tag(resource: ResourceType) -> &'static str {
    match resource {
        ResourceType::Network => "endpoint",
        ResourceType::Database => "database",
        ResourceType::McpServer => "mcp_server",
        _ => "probe",
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ResourceManager {
    /// A builder with the default thresholds, no probes and a 30 s reading TTL.
    pub fn builder() -> ResourceManagerBuilder {
        ResourceManagerBuilder::default()
    }

    /// The status and usage percent of `resource` for a call with context `ctx`.
    ///
    /// API quota with a team or model in `ctx` is answered by the quota source, if any. A tag
    /// naming a probe (`endpoint`, `database`, `mcp_server`, or `probe`) selects that probe;
    /// otherwise the worst *known* reading of the type's probes wins (worse status, then higher
    /// usage), and the resource reads `Unknown` only when none of its probes is known. No
    /// probe: `(Unknown, 0.0)`.
    #[inline]
    pub fn check_resource(&self, resource: ResourceType, ctx: &Context) -> (ResourceStatus, f64) {
        if let Some(answer) = self.inner.quota_answer(resource, ctx) {
            return answer;
        }
        let now = self.inner.now();
        match self.inner.pick(resource, ctx, now).and_then(|p| known(p.read)) {
            Some(answer) => answer,
            None => (ResourceStatus::Unknown, 0.0),
        }
    }

    /// Like [`check_resource`](Self::check_resource), with the reason behind the status.
    pub fn reading(&self, resource: ResourceType, ctx: &Context) -> ResourceReading {
        if let Some(usage) = self.inner.quota_usage(resource, ctx) {
            let (status, usage_percent) = self.inner.quota_status(usage);
            let reason = usage.is_none().then(|| no_limit_reason(ctx));
            return ResourceReading { status, usage_percent, reason };
        }
        let now = self.inner.now();
        let Some(picked) = self.inner.pick(resource, ctx, now) else {
            let reason = format!("no probe configured for {resource}");
            return ResourceReading::unknown(reason);
        };
        self.inner.aggregate(resource, picked, now)
    }

    /// Whether `resource` may be used: [`ResourceStatus::is_usable`], so anything but critical
    /// or exhausted; `Unknown` lets calls pass.
    pub fn can_use_resource(&self, resource: ResourceType) -> bool {
        self.check_resource(resource, &Context::new()).0.is_usable()
    }

    /// The thresholds in force.
    pub fn thresholds(&self) -> &Thresholds {
        &self.inner.thresholds
    }

    /// Names of the probes of `resource`, in registration order.
    pub fn probe_names(&self, resource: ResourceType) -> Vec<String> {
        self.inner.entries(resource).map(|(_, e)| e.probe.name().to_owned()).collect()
    }
}

fn no_limit_reason(ctx: &Context) -> String {
    let name = |v: &Option<String>| v.as_deref().unwrap_or("any").to_owned();
    format!("no quota limit applies to team {}, model {}", name(&ctx.team_name), name(&ctx.model))
}

impl ResourceReading {
    pub(crate) fn unknown(reason: String) -> Self {
        Self { status: ResourceStatus::Unknown, usage_percent: 0.0, reason: Some(reason) }
    }
}

impl Inner {
    /// Monotonic now for freshness checks: the ticker's copy while samplers run (at most one
    /// tick behind, so readings may stay fresh one tick longer), else a clock read.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        if self.ticking.load(Ordering::Relaxed) {
            self.coarse_now.load(Ordering::Relaxed)
        } else {
            self.clock.now_nanos()
        }
    }

    pub(crate) fn entries(&self, resource: ResourceType) -> impl Iterator<Item = (usize, &ProbeEntry)> + '_ {
        let ids = type_index(resource).map_or(&[][..], |i| &self.by_type[i][..]);
        ids.iter().map(|&i| (i, &self.probes[i]))
    }

    /// The API quota of the team and model `ctx` names, from the quota source alone: a model's
    /// status comes from its own limits and its team's, never from another model's. Nothing
    /// limiting them reads healthy at 0 %. `None` when `ctx` names neither, or there is no
    /// source, so the probes answer for the quota as a whole.
    #[inline]
    pub(crate) fn quota_answer(
        &self,
        resource: ResourceType,
        ctx: &Context,
    ) -> Option<(ResourceStatus, f64)> {
        self.quota_usage(resource, ctx).map(|usage| self.quota_status(usage))
    }

    /// What the quota source says of `ctx`'s team and model (`Some(None)`: no limit applies).
    fn quota_usage(&self, resource: ResourceType, ctx: &Context) -> Option<Option<f64>> {
        if resource != ResourceType::ApiQuota || (ctx.team_name.is_none() && ctx.model.is_none()) {
            return None;
        }
        Some(self.quota.as_ref()?.usage_percent(ctx))
    }

    fn quota_status(&self, usage: Option<f64>) -> (ResourceStatus, f64) {
        match usage {
            Some(usage) => (self.thresholds.get(ResourceType::ApiQuota).status_for(usage), usage),
            None => (ResourceStatus::Healthy, 0.0),
        }
    }

    /// The reading of probe `index` with its reason.
    pub(crate) fn explain(&self, index: usize, read: SlotRead) -> ResourceReading {
        let last = self.probes[index].last();
        match read {
            SlotRead::Fresh(status, usage_percent) => {
                ResourceReading { status, usage_percent, reason: last.reason.clone() }
            }
            SlotRead::Stale => ResourceReading::unknown(format!(
                "stale: no reading from `{}` within {:?}",
                self.probes[index].probe.name(),
                self.ttl
            )),
            SlotRead::Empty => {
                ResourceReading::unknown(format!("no reading yet from `{}`", self.probes[index].probe.name()))
            }
        }
    }
}
