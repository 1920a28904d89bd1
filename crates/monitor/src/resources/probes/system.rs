//! [`SystemProbe`]: host memory and CPU through sysinfo.

use std::sync::Mutex;
use std::time::Duration;

use elf_resilience_core::ResourceType;
use sysinfo::{CpuRefreshKind, MINIMUM_CPU_UPDATE_INTERVAL, System};

use super::host::human_bytes;
use crate::resources::probe::{BoxFuture, Probe, ProbeError, Sample};

/// The host's memory (used over total) or CPU (busy share since the previous sample).
///
/// CPU needs two readings apart: the probe keeps its `System` between samples and its first
/// sample waits sysinfo's minimum update interval for a second one.
///
/// ```
/// use elf_resilience_core::ResourceType;
/// use elf_resilience_monitor::{Probe, probes::SystemProbe};
///
/// assert_eq!(SystemProbe::memory().resource_type(), ResourceType::Memory);
/// assert_eq!(SystemProbe::cpu().name(), "host");
/// ```
#[derive(Debug)]
pub struct SystemProbe {
    kind: ResourceType,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    sys: System,
    cpu_primed: bool,
}

impl SystemProbe {
    /// Host memory.
    pub fn memory() -> Self {
        Self::new(ResourceType::Memory)
    }

    /// Host CPU.
    pub fn cpu() -> Self {
        Self::new(ResourceType::Cpu)
    }

    fn new(kind: ResourceType) -> Self {
        Self { kind, state: Mutex::new(State { sys: System::new(), cpu_primed: false }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn memory_sample(&self) -> Result<Sample, ProbeError> {
        let mut state = self.lock();
        state.sys.refresh_memory();
        let (total, used) = (state.sys.total_memory(), state.sys.used_memory());
        if total == 0 {
            return Err(ProbeError::Failed("host memory total reads 0".into()));
        }
        let detail = format!("{} of {} used (host)", human_bytes(used), human_bytes(total));
        Ok(Sample::new(used as f64 * 100.0 / total as f64, detail)
            .with_metric("used_bytes", used as f64)
            .with_metric("total_bytes", total as f64))
    }

    /// Takes a first CPU reading now, so the next sample measures from here without waiting.
    pub fn prime(&self) {
        self.refresh_cpu();
    }

    /// Refreshes CPU usage; `true` when a previous refresh makes the figure meaningful.
    fn refresh_cpu(&self) -> bool {
        let mut state = self.lock();
        state.sys.refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
        std::mem::replace(&mut state.cpu_primed, true)
    }

    fn cpu_reading(&self) -> Sample {
        let state = self.lock();
        let usage = f64::from(state.sys.global_cpu_usage()).clamp(0.0, 100.0);
        let cpus = state.sys.cpus().len();
        Sample::new(usage, format!("{usage:.1}% of {cpus} CPUs (host)")).with_metric("cpus", cpus as f64)
    }

    async fn cpu_sample(&self) -> Result<Sample, ProbeError> {
        if !self.refresh_cpu() {
            tokio::time::sleep(MINIMUM_CPU_UPDATE_INTERVAL.max(Duration::from_millis(200))).await;
            self.refresh_cpu();
        }
        Ok(self.cpu_reading())
    }
}

impl Probe for SystemProbe {
    fn resource_type(&self) -> ResourceType {
        self.kind
    }
    fn name(&self) -> &str {
        "host"
    }
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(async move {
            match self.kind {
                ResourceType::Memory => self.memory_sample(),
                _ => self.cpu_sample().await,
            }
        })
    }
}
