//! `[probes]` and `[models]`: what is sampled beyond the built-in probes, model alternatives and quotas.

use super::*;

/// Probes beyond the built-in host, cgroup and container ones.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Probes {
    /// How often each probe samples, unless it says otherwise.
    pub interval: Option<HumanDuration>,
    /// How long a sample may take, unless the probe says otherwise.
    pub timeout: Option<HumanDuration>,
    /// Databases to watch.
    pub databases: Vec<DatabaseProbe>,
    /// Network endpoints to watch.
    pub endpoints: Vec<EndpointProbe>,
    /// MCP servers to watch.
    pub mcp_servers: Vec<McpProbe>,
}

/// A database to watch.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseProbe {
    /// Its name in reports.
    pub name: String,
    /// `postgres://user:password@host/db` or `sqlite://path`.
    pub url: DatabaseUrl,
    /// Databases to suggest when this one is critical.
    #[serde(default)]
    pub alternatives: Vec<String>,
    /// Sampling interval.
    pub interval: Option<HumanDuration>,
    /// Sampling timeout.
    pub timeout: Option<HumanDuration>,
}

/// A network endpoint to watch.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointProbe {
    /// Its name in reports.
    pub name: String,
    /// `http(s)://...` for an HTTP GET, or use `tcp` for a bare connect.
    pub url: Option<HttpUrl>,
    /// `host:port` for a TCP connect probe.
    pub tcp: Option<String>,
    /// Endpoints to suggest when this one is critical.
    #[serde(default)]
    pub alternatives: Vec<String>,
    /// Sampling interval.
    pub interval: Option<HumanDuration>,
    /// Sampling timeout.
    pub timeout: Option<HumanDuration>,
}

/// An MCP server to watch: `command` (stdio) or `url` (streamable HTTP).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct McpProbe {
    /// Its name in reports.
    pub name: String,
    /// The command line that starts a stdio server.
    pub command: Option<Vec<String>>,
    /// The URL of a streamable-HTTP server.
    pub url: Option<HttpUrl>,
    /// Sampling interval.
    pub interval: Option<HumanDuration>,
    /// Sampling timeout.
    pub timeout: Option<HumanDuration>,
}

/// Models: alternatives in order of preference, and quotas per team.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Models {
    /// For each model, the models to switch to, in order.
    pub alternatives: BTreeMap<String, Vec<String>>,
    /// Usage limits.
    pub quotas: Vec<Quota>,
}

/// The window a quota counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Window {
    Minute,
    Hour,
    Day,
}

/// A usage limit for one team and model over one window.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// The team; `"*"` for every team.
    pub team: String,
    /// The model.
    pub model: String,
    /// The window.
    pub window: Window,
    /// Tokens allowed per window.
    pub tokens: Option<u64>,
    /// Requests allowed per window.
    pub requests: Option<u64>,
}
