//! Detecting whether the process runs in a container or a Kubernetes pod, from an injectable
//! environment (a file system root and environment variables).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::resources::probes::cgroup::parse_proc_cgroup;

/// Where detection looks: a file system root and environment variables.
#[derive(Debug, Clone, Default)]
pub struct ContainerEnv {
    root: PathBuf,
    vars: HashMap<String, String>,
}

impl ContainerEnv {
    /// This process's environment: `/` and its environment variables.
    pub fn current() -> Self {
        Self { root: PathBuf::from("/"), vars: std::env::vars().collect() }
    }

    /// An environment rooted at `root` with `vars` (for fixture trees).
    pub fn new<I, K, V>(root: impl Into<PathBuf>, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        Self { root: root.into(), vars }
    }

    /// The file system root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }
}

/// Who the pod is, from downward-API environment variables and the service account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodIdentity {
    /// `POD_NAME`, else `HOSTNAME`.
    pub pod_name: Option<String>,
    /// `POD_NAMESPACE`, else the service account's namespace file.
    pub namespace: Option<String>,
    /// `NODE_NAME`.
    pub node_name: Option<String>,
    /// `POD_IP`.
    pub pod_ip: Option<String>,
}

/// What detection found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// Why we think we run in a container (Docker, Podman, containerd, CRI-O).
    pub container: Option<String>,
    /// Why we think we run in a Kubernetes pod.
    pub kubernetes: Option<String>,
    /// The pod's identity, when in a pod.
    pub pod: Option<PodIdentity>,
}

const RUNTIME_MARKERS: [&str; 6] = ["docker", "containerd", "libpod", "kubepods", "crio", "lxc"];

/// Looks for container and pod evidence in `env`.
pub fn detect(env: &ContainerEnv) -> Detection {
    let cgroup = std::fs::read_to_string(env.path("/proc/self/cgroup")).unwrap_or_default();
    let paths: Vec<String> = parse_proc_cgroup(&cgroup).into_iter().map(|l| l.path).collect();
    let kubernetes = kubernetes_evidence(env, &paths);
    let container = container_evidence(env, &paths).or_else(|| kubernetes.clone());
    let pod = kubernetes.as_ref().map(|_| pod_identity(env));
    Detection { container, kubernetes, pod }
}

fn container_evidence(env: &ContainerEnv, cgroup_paths: &[String]) -> Option<String> {
    let files = [("/.dockerenv", "Docker"), ("/run/.containerenv", "Podman")];
    if let Some((file, runtime)) = files.iter().find(|(f, _)| env.path(f).exists()) {
        return Some(format!("{file} ({runtime})"));
    }
    let hit =
        cgroup_paths.iter().find_map(|p| RUNTIME_MARKERS.iter().find(|m| p.contains(*m)).map(|m| (p, m)));
    hit.map(|(path, marker)| format!("cgroup path {path} ({marker})"))
}

fn kubernetes_evidence(env: &ContainerEnv, cgroup_paths: &[String]) -> Option<String> {
    if env.var("KUBERNETES_SERVICE_HOST").is_some() {
        return Some("KUBERNETES_SERVICE_HOST is set".into());
    }
    if env.path(SERVICE_ACCOUNT).is_dir() {
        return Some(format!("{SERVICE_ACCOUNT} exists"));
    }
    let pod_path = cgroup_paths.iter().find(|p| p.contains("kubepods"));
    pod_path.map(|p| format!("cgroup path {p} (kubepods)"))
}

const SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

fn pod_identity(env: &ContainerEnv) -> PodIdentity {
    let namespace_file = env.path(SERVICE_ACCOUNT).join("namespace");
    let file_namespace = std::fs::read_to_string(namespace_file).ok().map(|s| s.trim().to_owned());
    PodIdentity {
        pod_name: env.var("POD_NAME").or_else(|| env.var("HOSTNAME")),
        namespace: env.var("POD_NAMESPACE").or(file_namespace.filter(|s| !s.is_empty())),
        node_name: env.var("NODE_NAME"),
        pod_ip: env.var("POD_IP"),
    }
}
