//! [`CgroupProbe`]: memory and CPU as the process's cgroup sees them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_core::{ResourceType, SharedClock, SystemClock};

use super::reader::{CgroupCpu, CgroupReader, CgroupSample, cpu_percent, throttled_ratio};
use crate::resources::probe::{BoxFuture, Probe, ProbeError, Sample};
use crate::resources::probes::host::{host_cpus, host_memory_bytes, human_bytes};

/// How long the first CPU sample waits between its two readings.
const PRIME_DELAY: Duration = Duration::from_millis(250);

/// Memory or CPU of the process's cgroup: working set over the effective limit, CPU time over
/// the quota, with throttling and pressure as metrics.
///
/// ```no_run
/// use elf_resilience_monitor::{ResourceManager, probes::CgroupProbe};
///
/// let rm = ResourceManager::builder()
///     .probe(CgroupProbe::memory(CgroupProbe::detect_reader().unwrap()))
///     .build()
///     .unwrap();
/// ```
#[derive(Debug)]
pub struct CgroupProbe {
    kind: ResourceType,
    reader: Arc<CgroupReader>,
    cpu: CpuTracker,
}

impl CgroupProbe {
    /// This process's cgroup reader.
    pub fn detect_reader() -> Result<CgroupReader, ProbeError> {
        CgroupReader::detect()
    }

    /// A memory probe over `reader`.
    pub fn memory(reader: CgroupReader) -> Self {
        Self { kind: ResourceType::Memory, reader: Arc::new(reader), cpu: CpuTracker::default() }
    }

    /// A CPU probe over `reader`.
    pub fn cpu(reader: CgroupReader) -> Self {
        Self { kind: ResourceType::Cpu, reader: Arc::new(reader), cpu: CpuTracker::default() }
    }

    /// Uses `clock` to time CPU deltas (default: the system clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.cpu.clock = clock;
        self
    }

    /// Takes a first CPU reading now, so the next sample measures from here instead of
    /// waiting a moment for a second reading.
    pub fn prime(&self) {
        if let Some(cpu) = self.reader.cpu() {
            self.cpu.swap(cpu);
        }
    }

    async fn take(&self) -> Result<Sample, ProbeError> {
        let s = read_blocking(&self.reader).await?;
        match self.kind {
            ResourceType::Memory => memory_sample(&s, "cgroup"),
            _ => self.cpu.sample(&self.reader, s).await,
        }
    }
}

impl Probe for CgroupProbe {
    fn resource_type(&self) -> ResourceType {
        self.kind
    }
    fn name(&self) -> &str {
        "cgroup"
    }
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(self.take())
    }
}

/// Reads a cgroup sample off the async runtime.
pub(crate) async fn read_blocking(reader: &Arc<CgroupReader>) -> Result<CgroupSample, ProbeError> {
    let reader = Arc::clone(reader);
    tokio::task::spawn_blocking(move || reader.sample())
        .await
        .map_err(|e| ProbeError::Failed(format!("cgroup read task: {e}")))
}

/// Working set over the effective limit (the host's RAM when there is none).
pub(crate) fn memory_sample(s: &CgroupSample, what: &str) -> Result<Sample, ProbeError> {
    let m = s.memory.ok_or_else(|| ProbeError::Failed("cgroup memory files unreadable".into()))?;
    let limit = m.limit_bytes.unwrap_or_else(host_memory_bytes).max(1);
    let scope = if m.limit_bytes.is_some() { "limit" } else { "host, no limit" };
    let detail = format!(
        "{} of {} working set ({what} {scope})",
        human_bytes(m.working_set_bytes),
        human_bytes(limit)
    );
    let mut sample = Sample::new(m.working_set_bytes as f64 * 100.0 / limit as f64, detail)
        .with_metric("working_set_bytes", m.working_set_bytes as f64)
        .with_metric("usage_bytes", m.usage_bytes as f64)
        .with_metric("limit_bytes", limit as f64);
    for (name, v) in [("psi_memory_some_avg10", s.pressure.memory), ("psi_io_some_avg10", s.pressure.io)] {
        if let Some(v) = v {
            sample = sample.with_metric(name, v);
        }
    }
    Ok(sample)
}

/// Keeps the previous CPU reading to turn counters into a rate.
#[derive(Debug)]
pub(crate) struct CpuTracker {
    clock: SharedClock,
    prev: Mutex<Option<(u64, CgroupCpu)>>,
}

impl Default for CpuTracker {
    fn default() -> Self {
        Self { clock: SystemClock::shared(), prev: Mutex::new(None) }
    }
}

impl CpuTracker {
    /// CPU use since the previous reading; the first call takes a second reading shortly after.
    pub(crate) async fn sample(
        &self,
        reader: &Arc<CgroupReader>,
        s: CgroupSample,
    ) -> Result<Sample, ProbeError> {
        let cur = s.cpu.ok_or_else(unreadable)?;
        if let Some(prev) = self.swap(cur) {
            return Ok(self.rate(prev, cur, &s));
        }
        tokio::time::sleep(PRIME_DELAY).await;
        let next = read_blocking(reader).await?;
        let cur = next.cpu.ok_or_else(unreadable)?;
        let prev = self.swap(cur).unwrap_or((self.clock.now_nanos(), cur));
        Ok(self.rate(prev, cur, &next))
    }

    pub(crate) fn swap(&self, cur: CgroupCpu) -> Option<(u64, CgroupCpu)> {
        let now = self.clock.now_nanos();
        self.prev.lock().unwrap_or_else(|e| e.into_inner()).replace((now, cur))
    }

    fn rate(&self, (then, prev): (u64, CgroupCpu), cur: CgroupCpu, s: &CgroupSample) -> Sample {
        let elapsed = self.clock.now_nanos().saturating_sub(then).max(1_000_000);
        let percent = cpu_percent(&prev, &cur, elapsed, host_cpus()).unwrap_or(0.0);
        let cpus = cur.quota_cpus.unwrap_or_else(host_cpus);
        let scope = if cur.quota_cpus.is_some() { "quota" } else { "host CPUs, no quota" };
        let detail = format!("{percent:.1}% of {cpus:.2} CPUs ({scope})");
        let mut sample = Sample::new(percent, detail).with_metric("cpus", cpus);
        let extra =
            [("throttled_ratio", throttled_ratio(&prev, &cur)), ("psi_cpu_some_avg10", s.pressure.cpu)];
        for (name, v) in extra {
            if let Some(v) = v {
                sample = sample.with_metric(name, v);
            }
        }
        sample
    }
}

fn unreadable() -> ProbeError {
    ProbeError::Failed("cgroup cpu files unreadable".into())
}
