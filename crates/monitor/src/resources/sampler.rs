//! Taking samples: background samplers per probe and on-demand refreshes.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use elf_resilience_core::{ResourceStatus, ResourceType};
use futures_util::FutureExt;
use futures_util::future::join_all;
use tokio::time::MissedTickBehavior;

use super::entry::{LastReading, ProbeEntry};
use super::manager::{Inner, ResourceManager, lock};
use super::probe::{ProbeError, Sample};
use super::thresholds::type_index;

/// How often the ticker refreshes the time readers compare readings against.
const TICK: Duration = Duration::from_millis(100);

impl ResourceManager {
    /// Starts one sampler task per probe (needs a tokio runtime). Calling it again restarts
    /// them.
    pub fn start(&self) {
        self.stop();
        let weak = Arc::downgrade(&self.inner);
        let mut handles: Vec<_> =
            (0..self.inner.probes.len()).map(|i| tokio::spawn(run_sampler(weak.clone(), i))).collect();
        self.inner.tick();
        handles.push(tokio::spawn(run_ticker(weak)));
        self.inner.ticking.store(true, Ordering::Release);
        *lock(&self.inner.samplers) = handles;
        tracing::debug!(probes = self.inner.probes.len(), "resource samplers started");
    }

    /// Stops the samplers; readings then go stale after the TTL.
    pub fn stop(&self) {
        self.inner.ticking.store(false, Ordering::Release);
        lock(&self.inner.samplers).drain(..).for_each(|h| h.abort());
    }

    /// Samples every probe of `resource` now, each cut at its timeout.
    pub async fn refresh(&self, resource: ResourceType) {
        let ids: Vec<usize> = self.inner.entries(resource).map(|(i, _)| i).collect();
        join_all(ids.into_iter().map(|i| self.inner.sample_once(i))).await;
    }

    /// Samples every probe now.
    pub async fn refresh_all(&self) {
        join_all((0..self.inner.probes.len()).map(|i| self.inner.sample_once(i))).await;
    }
}

async fn run_sampler(inner: Weak<Inner>, index: usize) {
    let Some(period) = inner.upgrade().map(|i| i.probes[index].interval) else { return };
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        inner.sample_once(index).await;
    }
}

/// Keeps `coarse_now` current so readers need no clock read.
async fn run_ticker(inner: Weak<Inner>) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        inner.tick();
    }
}

impl Inner {
    fn tick(&self) {
        self.coarse_now.fetch_max(self.clock.now_nanos(), Ordering::Relaxed);
    }

    async fn sample_once(&self, index: usize) {
        let entry = &self.probes[index];
        let started = self.clock.now_nanos();
        let timed = tokio::time::timeout(entry.timeout, entry.probe.sample());
        let result = match AssertUnwindSafe(timed).catch_unwind().await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ProbeError::TimedOut(entry.timeout)),
            Err(_) => Err(ProbeError::Failed("the probe panicked".into())),
        };
        let took = self.clock.now_nanos().saturating_sub(started);
        let resource = entry.probe.resource_type().as_str();
        metrics::gauge!("elf_probe_latency_seconds", "resource" => resource, "probe" => entry.probe.name().to_owned())
            .set(took as f64 / 1e9);
        self.apply(index, result);
    }

    /// Turns a probe's result into the probe's reading.
    pub(crate) fn apply(&self, index: usize, result: Result<Sample, ProbeError>) {
        let entry = &self.probes[index];
        let now = self.clock.now_nanos();
        let resource = entry.probe.resource_type();
        let down = result.as_ref().is_ok_and(is_down);
        let reading = match result {
            Ok(sample) => self.measured(resource, sample),
            Err(error) => failed(error),
        };
        let fresh_until = now.saturating_add(super::nanos(self.ttl));
        let status = reading.status.unwrap_or(ResourceStatus::Unknown);
        entry.slot.store(status, reading.usage, fresh_until);
        if reading.reason.is_none() {
            self.record_history(resource, now, reading.usage);
        }
        observe(entry, &reading, down);
        let reading = LastReading { at: Some(self.clock.wall()), ..reading };
        *entry.last() = reading;
    }

    fn measured(&self, resource: ResourceType, sample: Sample) -> LastReading {
        let usage = sample.usage_percent;
        let derived = self.thresholds.get(resource).status_for(usage);
        LastReading {
            status: Some(sample.status_override.unwrap_or(derived)),
            usage,
            reason: None,
            detail: sample.detail,
            metrics: sample.metrics,
            at: None,
        }
    }

    fn record_history(&self, resource: ResourceType, now: u64, usage: f64) {
        if let Some(i) = type_index(resource) {
            lock(&self.history)[i].record(now, usage);
        }
    }
}

fn failed(error: ProbeError) -> LastReading {
    LastReading {
        status: Some(ResourceStatus::Unknown),
        usage: 0.0,
        reason: Some(error.to_string()),
        ..LastReading::default()
    }
}

/// Whether a sample says its endpoint is down: the network and MCP probes report an endpoint
/// they know to be down as usage 100 % with a `Critical` override (see `probes::network`).
fn is_down(sample: &Sample) -> bool {
    sample.status_override == Some(ResourceStatus::Critical) && sample.usage_percent >= 100.0
}

/// Logs a change of status and sets the probe's metrics: usage, up, and (network and MCP
/// probes, each under its own name) the endpoint-down counters.
fn observe(entry: &ProbeEntry, reading: &LastReading, down: bool) {
    let previous = entry.last().status;
    let name = entry.probe.name();
    let resource = entry.probe.resource_type().as_str();
    if previous != reading.status {
        tracing::info!(
            resource, probe = name, from = ?previous, to = ?reading.status,
            usage = reading.usage, reason = reading.reason.as_deref(),
            "resource status changed"
        );
    }
    let ty = entry.probe.resource_type();
    let down = down && matches!(ty, ResourceType::Network | ResourceType::McpServer);
    let labels = [("resource", resource.to_owned()), ("probe", name.to_owned())];
    metrics::gauge!("elf_probe_usage_ratio", &labels).set((reading.usage / 100.0).clamp(0.0, 1.0));
    metrics::gauge!("elf_probe_up", &labels).set(if reading.reason.is_none() && !down { 1.0 } else { 0.0 });
    if reading.reason.is_some() {
        metrics::counter!("elf_resource_probe_failures_total", &labels).increment(1);
    }
    match ty {
        ResourceType::Network if down => {
            metrics::counter!("elf_network_probe_down_total", "probe" => name.to_owned()).increment(1)
        }
        ResourceType::McpServer if down => {
            metrics::counter!("elf_mcp_probe_down_total", "probe" => name.to_owned()).increment(1)
        }
        _ => {}
    }
}
