//! Warning and critical thresholds per resource type, and the status they give a usage.

use elf_resilience_core::{ResourceStatus, ResourceType};
use serde::Serialize;

use super::error::ResourceManagerError;

/// The warning and critical thresholds of one resource type, in percent.
///
/// ```
/// use elf_resilience_core::ResourceStatus;
/// use elf_resilience_monitor::Threshold;
///
/// let t = Threshold::new(80.0, 95.0);
/// assert_eq!(t.status_for(50.0), ResourceStatus::Healthy);
/// assert_eq!(t.status_for(85.0), ResourceStatus::Warning);
/// assert_eq!(t.status_for(96.0), ResourceStatus::Critical);
/// assert_eq!(t.status_for(100.0), ResourceStatus::Exhausted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Threshold {
    /// Usage at or above which the resource is `Warning`.
    pub warning: f64,
    /// Usage at or above which the resource is `Critical`.
    pub critical: f64,
}

impl Threshold {
    /// Thresholds of `warning` and `critical` percent (validated when the manager is built).
    pub const fn new(warning: f64, critical: f64) -> Self {
        Self { warning, critical }
    }

    /// The status a usage of `usage_percent` gives: `Exhausted` from 100 %, `Unknown` for NaN.
    pub fn status_for(&self, usage_percent: f64) -> ResourceStatus {
        match usage_percent {
            u if u.is_nan() => ResourceStatus::Unknown,
            u if u >= 100.0 => ResourceStatus::Exhausted,
            u if u >= self.critical => ResourceStatus::Critical,
            u if u >= self.warning => ResourceStatus::Warning,
            _ => ResourceStatus::Healthy,
        }
    }

    /// Checks `0 ≤ warning < critical ≤ 100`.
    pub fn validate(&self, resource_type: ResourceType) -> Result<(), ResourceManagerError> {
        let in_range = |v: f64| (0.0..=100.0).contains(&v);
        if in_range(self.warning) && in_range(self.critical) && self.warning < self.critical {
            return Ok(());
        }
        Err(ResourceManagerError::InvalidThresholds {
            resource_type,
            warning: self.warning,
            critical: self.critical,
        })
    }
}

/// Thresholds for all eight resource types.
///
/// # Default
///
/// | type | warning | critical |
/// |------|---------|----------|
/// | api_quota | 80 | 95 |
/// | memory | 80 | 90 |
/// | cpu | 80 | 95 |
/// | database, mcp_server, network | 80 | 95 |
/// | docker, k8s_pod | 80 | 90 |
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    by_type: [Threshold; 8],
}

impl Default for Thresholds {
    fn default() -> Self {
        let by_type = ResourceType::ALL.map(|t| match t {
            ResourceType::Memory | ResourceType::Docker | ResourceType::K8sPod => Threshold::new(80.0, 90.0),
            _ => Threshold::new(80.0, 95.0),
        });
        Self { by_type }
    }
}

impl Thresholds {
    /// The thresholds of `resource_type`.
    pub fn get(&self, resource_type: ResourceType) -> Threshold {
        type_index(resource_type).map_or(Threshold::new(80.0, 95.0), |i| self.by_type[i])
    }

    /// Replaces the thresholds of `resource_type`.
    pub fn set(&mut self, resource_type: ResourceType, threshold: Threshold) {
        if let Some(i) = type_index(resource_type) {
            self.by_type[i] = threshold;
        }
    }

    /// Checks every type's thresholds.
    pub fn validate(&self) -> Result<(), ResourceManagerError> {
        ResourceType::ALL.iter().try_for_each(|&t| self.get(t).validate(t))
    }
}

/// The position of a type in [`ResourceType::ALL`].
pub(crate) fn type_index(resource_type: ResourceType) -> Option<usize> {
    ResourceType::ALL.iter().position(|&t| t == resource_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_and_inverted_thresholds() {
        let t = ResourceType::Cpu;
        assert!(Threshold::new(80.0, 95.0).validate(t).is_ok());
        assert!(Threshold::new(95.0, 80.0).validate(t).is_err());
        assert!(Threshold::new(80.0, 80.0).validate(t).is_err());
        assert!(Threshold::new(-1.0, 80.0).validate(t).is_err());
        assert!(Threshold::new(80.0, 101.0).validate(t).is_err());
        assert!(Threshold::new(f64::NAN, 80.0).validate(t).is_err());
    }

    #[test]
    fn defaults_are_valid_and_per_type() {
        let d = Thresholds::default();
        assert!(d.validate().is_ok());
        assert_eq!(d.get(ResourceType::Memory), Threshold::new(80.0, 90.0));
        assert_eq!(d.get(ResourceType::ApiQuota), Threshold::new(80.0, 95.0));
    }
}
