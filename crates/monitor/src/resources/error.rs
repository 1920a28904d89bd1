//! Errors of the resource manager's configuration.

use std::time::Duration;

use elf_resilience_core::ResourceType;

/// Why a [`ResourceManager`](crate::ResourceManager) could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceManagerError {
    /// Thresholds outside 0–100, or warning not below critical.
    #[error(
        "invalid thresholds for {resource_type}: warning {warning} and critical {critical} \
         must satisfy 0 <= warning < critical <= 100"
    )]
    InvalidThresholds {
        /// The resource type.
        resource_type: ResourceType,
        /// The warning threshold given.
        warning: f64,
        /// The critical threshold given.
        critical: f64,
    },
    /// Two probes of one type share a name.
    #[error("two {resource_type} probes are named `{name}`")]
    DuplicateProbe {
        /// The resource type.
        resource_type: ResourceType,
        /// The shared name.
        name: String,
    },
    /// A probe's interval or timeout is zero.
    #[error("probe `{name}` needs a non-zero interval and timeout (got {interval:?} and {timeout:?})")]
    InvalidSchedule {
        /// The probe's name.
        name: String,
        /// Its sampling interval.
        interval: Duration,
        /// Its timeout.
        timeout: Duration,
    },
    /// The reading TTL is zero.
    #[error("the reading TTL must be non-zero")]
    ZeroTtl,
}
