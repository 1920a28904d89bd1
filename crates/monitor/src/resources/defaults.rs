//! The default probe set: host, cgroup, container and pod views of memory and CPU.

use std::time::Duration;

use super::builder::ResourceManagerBuilder;
use super::manager::ResourceManager;
use super::probes::{CgroupProbe, CgroupReader, ContainerProbe, SystemProbe};

const SYSTEM_INTERVAL: Duration = Duration::from_secs(5);
const CONTAINER_INTERVAL: Duration = Duration::from_secs(10);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl ResourceManagerBuilder {
    /// Adds the probes every host has: sysinfo's host memory and CPU, the process's cgroup
    /// memory and CPU (when a cgroup hierarchy is found), and the Docker and Kubernetes pod
    /// probes (which read `Unknown` outside a container or pod).
    pub fn default_probes(self) -> Self {
        let mut b = self.probe_every(SystemProbe::memory(), SYSTEM_INTERVAL, PROBE_TIMEOUT).probe_every(
            SystemProbe::cpu(),
            SYSTEM_INTERVAL,
            PROBE_TIMEOUT,
        );
        if let Ok(reader) = CgroupReader::detect() {
            b = b
                .probe_every(CgroupProbe::memory(reader.clone()), SYSTEM_INTERVAL, PROBE_TIMEOUT)
                .probe_every(CgroupProbe::cpu(reader), SYSTEM_INTERVAL, PROBE_TIMEOUT);
        }
        b.probe_every(ContainerProbe::docker(), CONTAINER_INTERVAL, PROBE_TIMEOUT).probe_every(
            ContainerProbe::kubernetes(),
            CONTAINER_INTERVAL,
            PROBE_TIMEOUT,
        )
    }
}

impl ResourceManager {
    /// A manager with the default thresholds and [default probes](ResourceManagerBuilder::default_probes),
    /// samplers not started: call [`refresh_all`](Self::refresh_all) or [`start`](Self::start).
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use elf_resilience_core::{Context, ResourceType};
    /// use elf_resilience_monitor::ResourceManager;
    ///
    /// let rm = ResourceManager::with_default_probes();
    /// rm.refresh_all().await;
    /// let (status, usage) = rm.check_resource(ResourceType::Memory, &Context::new());
    /// println!("memory {status} {usage:.1}%");
    /// # }
    /// ```
    pub fn with_default_probes() -> Self {
        Self::builder().default_probes().build().expect("the default configuration is valid")
    }
}
