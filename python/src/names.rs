//! The names and values of the spec's enums, so Python builds its `Enum` classes from Rust's.

use elf_resilience::{
    CircuitState, FallbackStage, FallbackStrategy, HealthStatus, ResourceStatus, ResourceType,
};
use pyo3::prelude::*;

/// Every resource status, in order of severity.
pub(crate) const RESOURCE_STATUSES: [ResourceStatus; 5] = [
    ResourceStatus::Healthy,
    ResourceStatus::Warning,
    ResourceStatus::Critical,
    ResourceStatus::Exhausted,
    ResourceStatus::Unknown,
];

/// Every health status.
pub(crate) const HEALTH_STATUSES: [HealthStatus; 4] =
    [HealthStatus::Healthy, HealthStatus::Degraded, HealthStatus::Unhealthy, HealthStatus::Unknown];

/// Every fallback stage a hook can watch.
pub(crate) const FALLBACK_STAGES: [FallbackStage; 4] = [
    FallbackStage::AttemptStarted,
    FallbackStage::StrategyChanged,
    FallbackStage::Served,
    FallbackStage::Exhausted,
];

/// A stage's value: its serde name (`attempt_started`, ...).
pub(crate) fn stage_value(stage: FallbackStage) -> String {
    serde_json::to_value(stage).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// `(NAME, value)` pairs: the member name is the upper-case value, as in the spec.
fn members(values: impl IntoIterator<Item = &'static str>) -> Vec<(String, &'static str)> {
    values.into_iter().map(|v| (v.to_uppercase(), v)).collect()
}

#[pyfunction]
fn resource_types() -> Vec<(String, &'static str)> {
    members(ResourceType::ALL.map(ResourceType::as_str))
}

#[pyfunction]
fn resource_statuses() -> Vec<(String, &'static str)> {
    members(RESOURCE_STATUSES.map(ResourceStatus::as_str))
}

#[pyfunction]
fn fallback_strategies() -> Vec<(String, &'static str)> {
    members(FallbackStrategy::ALL.map(FallbackStrategy::as_str))
}

#[pyfunction]
fn fallback_stages() -> Vec<(String, String)> {
    FALLBACK_STAGES.map(stage_value).into_iter().map(|v| (v.to_uppercase(), v)).collect()
}

#[pyfunction]
fn health_statuses() -> Vec<(String, &'static str)> {
    members(HEALTH_STATUSES.map(HealthStatus::as_str))
}

#[pyfunction]
fn circuit_states() -> Vec<(&'static str, &'static str)> {
    CircuitState::ALL.iter().map(|s| (s.as_str(), s.as_str())).collect()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(resource_types, m)?)?;
    m.add_function(wrap_pyfunction!(resource_statuses, m)?)?;
    m.add_function(wrap_pyfunction!(fallback_strategies, m)?)?;
    m.add_function(wrap_pyfunction!(fallback_stages, m)?)?;
    m.add_function(wrap_pyfunction!(health_statuses, m)?)?;
    m.add_function(wrap_pyfunction!(circuit_states, m)?)?;
    Ok(())
}
