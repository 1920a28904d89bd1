//! System, cgroup and container probes against this machine and against fixture trees.

use std::path::{Path, PathBuf};
use std::time::Duration;

use elf_resilience_core::{Context, ManualClock, ResourceStatus, ResourceType};
use elf_resilience_monitor::probes::container::ContainerEnv;
use elf_resilience_monitor::probes::{
    CgroupProbe, CgroupReader, ContainerProbe, SystemProbe, host_memory_bytes,
};
use elf_resilience_monitor::{Probe, ProbeError, ResourceManager, Sample};

fn fixture_root(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup").join(name)
}

fn metric(sample: &Sample, name: &str) -> Option<f64> {
    sample.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// Keeps a CPU busy for a while without sleeping, so CPU counters move.
fn burn_cpu() -> u64 {
    (0..20_000_000u64).fold(0u64, |acc, i| acc.wrapping_mul(31).wrapping_add(i ^ (acc >> 7)))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn host_memory_and_cpu_through_sysinfo() {
    let memory = SystemProbe::memory().sample().await.unwrap();
    assert!(memory.usage_percent > 0.0 && memory.usage_percent <= 100.0, "{memory:?}");
    assert_eq!(metric(&memory, "total_bytes"), Some(host_memory_bytes() as f64));
    let cpu = SystemProbe::cpu();
    cpu.prime();
    assert_ne!(burn_cpu(), 1);
    let sample = cpu.sample().await.unwrap();
    assert!((0.0..=100.0).contains(&sample.usage_percent), "{sample:?}");
    assert!(metric(&sample, "cpus").unwrap() >= 1.0);
}

#[tokio::test]
async fn cgroup_probes_on_this_machine() {
    let Ok(reader) = CgroupReader::detect() else {
        eprintln!("skipping: no cgroup hierarchy here");
        return;
    };
    let memory = CgroupProbe::memory(reader.clone()).sample().await.unwrap();
    assert!(memory.usage_percent > 0.0 && memory.usage_percent <= 100.0, "{memory:?}");
    assert!(metric(&memory, "limit_bytes").unwrap() > 0.0);
    let cpu = CgroupProbe::cpu(reader);
    cpu.prime();
    assert_ne!(burn_cpu(), 1);
    let sample = cpu.sample().await.unwrap();
    assert!(sample.usage_percent > 0.0, "{sample:?}");
    assert!(metric(&sample, "cpus").unwrap() > 0.0);
}

#[tokio::test]
async fn cgroup_memory_probe_on_fixtures() {
    let nested = CgroupReader::at_root(fixture_root("v1_nested")).unwrap();
    let sample = CgroupProbe::memory(nested).sample().await.unwrap();
    assert_eq!(sample.usage_percent, 250.0 * 100.0 / 512.0);
    assert_eq!(metric(&sample, "psi_memory_some_avg10"), Some(0.75));
    assert!(sample.detail.contains("250 MiB of 512 MiB"), "{}", sample.detail);
    let unlimited = CgroupReader::at_root(fixture_root("v2_unlimited")).unwrap();
    let sample = CgroupProbe::memory(unlimited).sample().await.unwrap();
    assert_eq!(metric(&sample, "limit_bytes"), Some(host_memory_bytes() as f64));
    assert!(sample.detail.contains("host, no limit"));
}

#[tokio::test]
async fn cgroup_cpu_probe_measures_quota_use_and_throttling_between_samples() {
    let root = std::env::temp_dir().join(format!("elf-cgroup-cpu-{}", std::process::id()));
    copy_tree(&fixture_root("v2_nested"), &root);
    let clock = ManualClock::new();
    let probe = CgroupProbe::cpu(CgroupReader::at_root(&root).unwrap()).with_clock(clock.shared());
    probe.prime();
    clock.advance(Duration::from_secs(1));
    let stat = "usage_usec 2250000\nnr_periods 50\nnr_throttled 15\n";
    std::fs::write(root.join("sys/fs/cgroup/system.slice/app.service/cpu.stat"), stat).unwrap();
    let sample = probe.sample().await.unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(sample.usage_percent, 50.0);
    assert_eq!(metric(&sample, "throttled_ratio"), Some(0.5));
    assert_eq!(metric(&sample, "cpus"), Some(0.5));
    assert_eq!(metric(&sample, "psi_cpu_some_avg10"), Some(12.0));
}

#[tokio::test]
async fn docker_fixture_is_detected_and_measured() {
    let env = ContainerEnv::new(fixture_root("docker"), [("HOSTNAME", "f00d")]);
    let docker = ContainerProbe::docker_in(env.clone());
    assert_eq!(docker.detection().container.as_deref(), Some("/.dockerenv (Docker)"));
    docker.prime();
    let sample = docker.sample().await.unwrap();
    assert_eq!(metric(&sample, "memory_percent"), Some(50.0));
    assert_eq!(sample.usage_percent, 50.0);
    let pod = ContainerProbe::kubernetes_in(env).sample().await;
    assert_eq!(pod, Err(ProbeError::Absent("not running in a Kubernetes pod".into())));
}

#[tokio::test]
async fn kubernetes_fixture_reads_pod_identity_and_limits() {
    let vars = [("KUBERNETES_SERVICE_HOST", "10.0.0.1"), ("POD_NAME", "web-1"), ("NODE_NAME", "node-3")];
    let env = ContainerEnv::new(fixture_root("k8s"), vars);
    let pod = ContainerProbe::kubernetes_in(env.clone());
    let identity = pod.detection().pod.clone().unwrap();
    assert_eq!(identity.namespace.as_deref(), Some("payments"));
    assert_eq!(identity.pod_name.as_deref(), Some("web-1"));
    pod.prime();
    let rm = ResourceManager::builder().probe(pod).build().unwrap();
    rm.refresh(ResourceType::K8sPod).await;
    let (status, usage) = rm.check_resource(ResourceType::K8sPod, &Context::new());
    assert_eq!(status, ResourceStatus::Critical);
    assert!((usage - 90.0).abs() < 0.01, "{usage}");
    let report = rm.get_resource_report(1);
    let detail = &report.resource(ResourceType::K8sPod).unwrap().probes[0].detail;
    assert!(detail.starts_with("pod payments/web-1 on node-3"), "{detail}");
    // The same tree without the variable is still a pod: kubepods cgroup and service account.
    let quiet = ContainerProbe::kubernetes_in(ContainerEnv::new(fixture_root("k8s"), [("A", "b")]));
    assert!(quiet.detection().kubernetes.as_deref().unwrap().contains("serviceaccount"));
    assert!(ContainerProbe::docker_in(env).detection().container.is_some());
}

#[tokio::test]
async fn bare_host_reads_unknown_with_a_reason() {
    let env = ContainerEnv::new(fixture_root("bare"), [("HOME", "/root")]);
    let rm = ResourceManager::builder()
        .probe(ContainerProbe::docker_in(env.clone()))
        .probe(ContainerProbe::kubernetes_in(env))
        .build()
        .unwrap();
    rm.refresh(ResourceType::Docker).await;
    rm.refresh(ResourceType::K8sPod).await;
    let docker = rm.reading(ResourceType::Docker, &Context::new());
    assert_eq!(docker.status, ResourceStatus::Unknown);
    assert_eq!(docker.reason.as_deref(), Some("not available: not running in a container"));
    let pod = rm.reading(ResourceType::K8sPod, &Context::new());
    assert_eq!(pod.reason.as_deref(), Some("not available: not running in a Kubernetes pod"));
}

#[tokio::test]
async fn default_probes_read_this_machine() {
    let rm = ResourceManager::with_default_probes();
    rm.refresh_all().await;
    for t in [ResourceType::Memory, ResourceType::Cpu] {
        let reading = rm.reading(t, &Context::new());
        assert_ne!(reading.status, ResourceStatus::Unknown, "{t}: {reading:?}");
        assert!(reading.usage_percent >= 0.0);
    }
    let in_container = ContainerProbe::docker().detection().container.is_some();
    let docker = rm.reading(ResourceType::Docker, &Context::new());
    assert_eq!(docker.status == ResourceStatus::Unknown, !in_container, "{docker:?}");
    let pod = rm.reading(ResourceType::K8sPod, &Context::new());
    if ContainerProbe::kubernetes().detection().kubernetes.is_none() {
        assert!(pod.reason.unwrap().contains("not running in a Kubernetes pod"));
    }
    let report = rm.get_resource_report(24);
    assert!(report.system.cpu_count >= 1);
    assert!(report.system.memory_total_gb > 0.0);
    assert!((0.0..=100.0).contains(&report.system.disk_usage_percent));
    assert_eq!(report.resource(ResourceType::Memory).unwrap().samples, 2);
}
