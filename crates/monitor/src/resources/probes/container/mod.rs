//! Containers and Kubernetes pods: detection and pod identity. The probe is
//! [`ContainerProbe`](super::ContainerProbe).

mod detect;
pub(super) mod probe;

pub use detect::{ContainerEnv, Detection, PodIdentity, detect};
