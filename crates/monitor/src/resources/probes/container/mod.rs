//! Containers and Kubernetes pods: detection, limits and usage from the cgroup, pod identity.

mod detect;
mod probe;

pub use detect::{ContainerEnv, Detection, PodIdentity, detect};
pub use probe::ContainerProbe;
