//! The seven fallback strategies and their default order per resource type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::resource::ResourceType;

/// What the protocol may do when a call fails or its resource is short, applied in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FallbackStrategy {
    /// Call again after a backoff delay (transient errors).
    Retry,
    /// Call an alternative provider or endpoint (e.g. GPT-4 → Claude).
    SwitchProvider,
    /// Call again at a lower quality level (fewer tokens, lower temperature, smaller batches).
    DegradeService,
    /// Store the request in the durable queue for later replay.
    QueueRequest,
    /// Answer from the response cache (stale allowed up to a limit).
    UseCache,
    /// Stop calling while the (resource, operation) breaker is open.
    CircuitBreak,
    /// Reject low-priority calls while the resource is critical or too busy.
    LoadShed,
}

impl FallbackStrategy {
    /// All seven, in the seed's order.
    pub const ALL: [FallbackStrategy; 7] = [
        Self::Retry,
        Self::SwitchProvider,
        Self::DegradeService,
        Self::QueueRequest,
        Self::UseCache,
        Self::CircuitBreak,
        Self::LoadShed,
    ];

    /// The snake_case name (`retry`, `switch_provider`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::SwitchProvider => "switch_provider",
            Self::DegradeService => "degrade_service",
            Self::QueueRequest => "queue_request",
            Self::UseCache => "use_cache",
            Self::CircuitBreak => "circuit_break",
            Self::LoadShed => "load_shed",
        }
    }

    /// The order used for `resource` when a call names none.
    ///
    /// | resource | order |
    /// |----------|-------|
    /// | api_quota | retry, switch provider, degrade, queue |
    /// | database | retry, use cache, circuit break |
    /// | memory | degrade, queue |
    /// | cpu, docker, k8s_pod | load shed, degrade, queue |
    /// | mcp_server, network | retry, switch provider, use cache, circuit break |
    pub fn default_order(resource: ResourceType) -> &'static [FallbackStrategy] {
        use FallbackStrategy::*;
        match resource {
            ResourceType::ApiQuota => &[Retry, SwitchProvider, DegradeService, QueueRequest],
            ResourceType::Database => &[Retry, UseCache, CircuitBreak],
            ResourceType::Memory => &[DegradeService, QueueRequest],
            ResourceType::McpServer | ResourceType::Network => {
                &[Retry, SwitchProvider, UseCache, CircuitBreak]
            }
            _ => &[LoadShed, DegradeService, QueueRequest],
        }
    }
}

impl fmt::Display for FallbackStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A strategy name that is not one of the seven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fallback strategy `{0}`")]
pub struct UnknownFallbackStrategy(pub String);

impl FromStr for FallbackStrategy {
    type Err = UnknownFallbackStrategy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownFallbackStrategy(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_defaults_follow_the_seed() {
        for s in FallbackStrategy::ALL {
            assert_eq!(s.as_str().parse::<FallbackStrategy>(), Ok(s));
        }
        use FallbackStrategy::*;
        assert_eq!(
            FallbackStrategy::default_order(ResourceType::ApiQuota),
            [Retry, SwitchProvider, DegradeService, QueueRequest]
        );
        assert_eq!(FallbackStrategy::default_order(ResourceType::Memory), [DegradeService, QueueRequest]);
        for r in ResourceType::ALL {
            assert!(!FallbackStrategy::default_order(r).is_empty());
        }
    }
}
