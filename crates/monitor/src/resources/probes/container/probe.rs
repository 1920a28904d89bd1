//! [`ContainerProbe`]: the Docker or Kubernetes-pod view of memory and CPU.

use std::sync::Arc;

use elf_resilience_core::ResourceType;

use super::detect::{ContainerEnv, Detection, PodIdentity, detect};
use crate::resources::probe::{BoxFuture, Probe, ProbeError, Sample};
use crate::resources::probes::cgroup::{CgroupReader, CpuTracker, memory_sample, read_blocking};

/// The container (`Docker`) or pod (`K8sPod`) the process runs in: the higher of memory use
/// over the container's limit and CPU use over its quota, from the process's cgroup.
/// Outside a container or pod it reads `Unknown` ("not available: ...").
///
/// ```
/// use elf_resilience_core::ResourceType;
/// use elf_resilience_monitor::Probe;
/// use elf_resilience_monitor::probes::{ContainerProbe, container::ContainerEnv};
///
/// let bare = ContainerEnv::new("/nonexistent", [("HOME", "/root")]);
/// let probe = ContainerProbe::kubernetes_in(bare);
/// assert_eq!(probe.resource_type(), ResourceType::K8sPod);
/// assert!(probe.detection().kubernetes.is_none());
/// ```
#[derive(Debug)]
pub struct ContainerProbe {
    kind: ResourceType,
    detection: Detection,
    reader: Option<Arc<CgroupReader>>,
    cpu: CpuTracker,
}

impl ContainerProbe {
    /// The Docker (any OCI container) probe for this process.
    pub fn docker() -> Self {
        Self::docker_in(ContainerEnv::current())
    }

    /// The Kubernetes pod probe for this process.
    pub fn kubernetes() -> Self {
        Self::kubernetes_in(ContainerEnv::current())
    }

    /// The Docker probe in `env`.
    pub fn docker_in(env: ContainerEnv) -> Self {
        Self::new(ResourceType::Docker, env)
    }

    /// The Kubernetes pod probe in `env`.
    pub fn kubernetes_in(env: ContainerEnv) -> Self {
        Self::new(ResourceType::K8sPod, env)
    }

    fn new(kind: ResourceType, env: ContainerEnv) -> Self {
        let detection = detect(&env);
        let reader = CgroupReader::at_root(env.root()).ok().map(Arc::new);
        Self { kind, detection, reader, cpu: CpuTracker::default() }
    }

    /// What detection found.
    pub fn detection(&self) -> &Detection {
        &self.detection
    }

    /// Takes a first CPU reading now, so the next sample measures from here without waiting.
    pub fn prime(&self) {
        if let Some(cpu) = self.reader.as_ref().and_then(|r| r.cpu()) {
            self.cpu.swap(cpu);
        }
    }

    fn evidence(&self) -> Result<&str, ProbeError> {
        let (found, absent) = match self.kind {
            ResourceType::K8sPod => (&self.detection.kubernetes, "not running in a Kubernetes pod"),
            _ => (&self.detection.container, "not running in a container"),
        };
        found.as_deref().ok_or_else(|| ProbeError::Absent(absent.into()))
    }

    async fn take(&self) -> Result<Sample, ProbeError> {
        let evidence = self.evidence()?.to_owned();
        let reader = self.reader.as_ref().ok_or_else(|| ProbeError::Failed("no readable cgroup".into()))?;
        let s = read_blocking(reader).await?;
        let memory = memory_sample(&s, "container")?;
        let cpu = self.cpu.sample(reader, s).await?;
        Ok(merge(memory, cpu, &self.who(&evidence)))
    }

    fn who(&self, evidence: &str) -> String {
        match (&self.kind, &self.detection.pod) {
            (ResourceType::K8sPod, Some(pod)) => pod_label(pod),
            _ => format!("container ({evidence})"),
        }
    }
}

fn pod_label(pod: &PodIdentity) -> String {
    let ns = pod.namespace.as_deref().unwrap_or("?");
    let name = pod.pod_name.as_deref().unwrap_or("?");
    match &pod.node_name {
        Some(node) => format!("pod {ns}/{name} on {node}"),
        None => format!("pod {ns}/{name}"),
    }
}

/// The binding resource wins: usage is the higher of memory and CPU.
fn merge(memory: Sample, cpu: Sample, who: &str) -> Sample {
    let usage = memory.usage_percent.max(cpu.usage_percent);
    let detail = format!("{who}: memory {}; cpu {}", memory.detail, cpu.detail);
    let mut out = Sample::new(usage, detail)
        .with_metric("memory_percent", memory.usage_percent)
        .with_metric("cpu_percent", cpu.usage_percent);
    out.metrics.extend(memory.metrics);
    out.metrics.extend(cpu.metrics);
    out
}

impl Probe for ContainerProbe {
    fn resource_type(&self) -> ResourceType {
        self.kind
    }
    fn name(&self) -> &str {
        match self.kind {
            ResourceType::K8sPod => "pod",
            _ => "container",
        }
    }
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(self.take())
    }
}
