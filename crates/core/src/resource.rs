//! The vocabulary shared by the fallback protocol and the resource manager: what kind of
//! resource a call uses, how it stands, and the context a call carries.
//!
//! These types live here, below the monitor crate, so that [`crate::fallback`] can ask a gate
//! about a resource without depending on the probes that measure it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The eight kinds of resource the framework watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResourceType {
    /// LLM API usage limits.
    ApiQuota,
    /// System or container RAM.
    Memory,
    /// Processor utilisation.
    Cpu,
    /// Connection pool and query capacity.
    Database,
    /// MCP server availability.
    McpServer,
    /// Network endpoints and APIs.
    Network,
    /// Container resources.
    Docker,
    /// Kubernetes pod resources.
    K8sPod,
}

impl ResourceType {
    /// Every resource type, in the order reports list them.
    pub const ALL: [ResourceType; 8] = [
        Self::ApiQuota,
        Self::Memory,
        Self::Cpu,
        Self::Database,
        Self::McpServer,
        Self::Network,
        Self::Docker,
        Self::K8sPod,
    ];

    /// The snake_case name used in config, JSON and reports (`api_quota`, `k8s_pod`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ApiQuota => "api_quota",
            Self::Memory => "memory",
            Self::Cpu => "cpu",
            Self::Database => "database",
            Self::McpServer => "mcp_server",
            Self::Network => "network",
            Self::Docker => "docker",
            Self::K8sPod => "k8s_pod",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A resource type name that is not one of the eight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown resource type `{0}` (expected one of api_quota, memory, cpu, database, mcp_server, network, docker, k8s_pod)"
)]
pub struct UnknownResourceType(pub String);

impl FromStr for ResourceType {
    type Err = UnknownResourceType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownResourceType(s.to_owned()))
    }
}

/// How a resource stands, from best to worst; `Unknown` when it could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResourceStatus {
    /// Below the warning threshold.
    Healthy,
    /// At or above the warning threshold.
    Warning,
    /// At or above the critical threshold.
    Critical,
    /// Fully used: 100 % or a hard refusal.
    Exhausted,
    /// Could not be read (absent, failed or timed out).
    Unknown,
}

impl ResourceStatus {
    /// The lowercase name (`healthy`, `warning`, ...), as the seed's `status.value`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Warning => "warning",
            Self::Critical => "critical",
            Self::Exhausted => "exhausted",
            Self::Unknown => "unknown",
        }
    }

    /// Whether a call may go ahead: anything but critical or exhausted. `Unknown` (nothing
    /// measures the resource, or its probe failed) lets calls pass, so a missing probe never
    /// stops work; this is the one meaning of "usable" across the library (the fallback
    /// gates, the queue worker, `ResourceManager::can_use_resource`).
    ///
    /// ```
    /// use elf_resilience_core::ResourceStatus;
    ///
    /// assert!(ResourceStatus::Unknown.is_usable());
    /// assert!(!ResourceStatus::Critical.is_usable());
    /// ```
    pub const fn is_usable(self) -> bool {
        !self.is_pressured()
    }

    /// Whether the resource is critical or exhausted.
    pub const fn is_pressured(self) -> bool {
        matches!(self, Self::Critical | Self::Exhausted)
    }
}

impl fmt::Display for ResourceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How important a request is; high and critical requests are never shed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Background work.
    Low,
    /// The default.
    #[default]
    Normal,
    /// User-facing work.
    High,
    /// Must not be dropped.
    Critical,
}

/// What a call carries so gates and strategies can decide well: the seed's `context` dict.
///
/// ```
/// use elf_resilience_core::{Context, Priority};
///
/// let ctx = Context::new()
///     .team("sales-team")
///     .model("gpt-4")
///     .operation("customer_analysis")
///     .priority(Priority::High)
///     .tag("region", "eu");
/// assert_eq!(ctx.model.as_deref(), Some("gpt-4"));
/// ```
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The team making the call.
    pub team_name: Option<String>,
    /// The model (or provider) the call wants.
    pub model: Option<String>,
    /// What the call does.
    pub operation: Option<String>,
    /// How important it is.
    pub priority: Priority,
    /// Free tags: endpoint names, database names, anything a probe or strategy keys on.
    pub tags: BTreeMap<String, String>,
}

// By hand, to be inlined where the copy is made: a context is cloned into every attempt, and
// returned from an out-of-line clone it is read back just after being written, which stalls.
impl Clone for Context {
    #[inline(always)]
    fn clone(&self) -> Self {
        Self {
            team_name: self.team_name.clone(),
            model: self.model.clone(),
            operation: self.operation.clone(),
            priority: self.priority,
            tags: if self.tags.is_empty() { BTreeMap::new() } else { self.tags.clone() },
        }
    }
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the team name.
    pub fn team(mut self, team: impl Into<String>) -> Self {
        self.team_name = Some(team.into());
        self
    }
    /// Sets the model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
    /// Sets the operation.
    pub fn operation(mut self, op: impl Into<String>) -> Self {
        self.operation = Some(op.into());
        self
    }
    /// Sets the priority.
    pub fn priority(mut self, p: Priority) -> Self {
        self.priority = p;
        self
    }
    /// Adds a free tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }
    /// A tag's value.
    pub fn get_tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloned_context_equals_its_original() {
        let full = Context::new().team("t").model("m").operation("o").priority(Priority::High).tag("k", "v");
        assert_eq!(full.clone(), full);
        assert_eq!(Context::new().clone(), Context::new());
    }

    #[test]
    fn resource_type_round_trips_through_its_name() {
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>(), Ok(t));
        }
        let err = "gpu".parse::<ResourceType>().unwrap_err();
        assert!(err.to_string().contains("unknown resource type `gpu`"));
    }

    #[test]
    fn usable_is_exactly_not_pressured_and_unknown_is_usable() {
        for status in [
            ResourceStatus::Healthy,
            ResourceStatus::Warning,
            ResourceStatus::Critical,
            ResourceStatus::Exhausted,
            ResourceStatus::Unknown,
        ] {
            assert_eq!(status.is_usable(), !status.is_pressured(), "{status}");
        }
        assert!(ResourceStatus::Unknown.is_usable());
        assert!(!ResourceStatus::Critical.is_usable());
    }
}
