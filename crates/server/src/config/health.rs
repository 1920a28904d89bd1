//! `[health]`: the checks `serve` and `health` run, and where alerts go.

use super::*;

/// Health checks.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Health {
    /// How often checks run, unless a check says otherwise.
    pub interval: Option<HumanDuration>,
    /// Whether to register the built-in checks (cpu, memory, disk, api quota). Default true.
    pub default_checks: Option<bool>,
    /// Extra checks.
    pub checks: Vec<HealthCheckConfig>,
}

/// What a configured health check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum CheckKind {
    Http,
    Tcp,
    Resource,
}

/// One health check.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// Its name.
    pub name: String,
    /// What it checks.
    pub kind: CheckKind,
    /// The URL (http), `host:port` (tcp) or resource type name (resource).
    pub target: String,
    /// Whether it affects overall health. Default true.
    #[serde(default = "yes")]
    pub critical: bool,
    /// How often it runs.
    pub interval: Option<HumanDuration>,
    /// How long it may take.
    pub timeout: Option<HumanDuration>,
}

fn yes() -> bool {
    true
}

/// Where alerts are sent.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AlertSink {
    /// A `tracing` event at warn or error level.
    Log,
    /// An HTTP POST of the alert as JSON.
    Webhook {
        /// Where to POST; shown redacted.
        url: HttpUrl,
        /// How long one POST may take before it fails and is retried. Default 10 s.
        #[serde(default)]
        timeout: Option<HumanDuration>,
    },
}

impl HealthCheckConfig {
    pub(super) fn check_target(&self) -> Result<(), String> {
        match self.kind {
            CheckKind::Http => Url::parse(&self.target, &["http", "https"]).map(drop),
            CheckKind::Tcp => check_host_port(&self.target),
            CheckKind::Resource => self
                .target
                .parse::<elf_resilience::ResourceType>()
                .map(drop)
                .map_err(|e| format!("expected a resource type: {e}")),
        }
    }
}

pub(super) fn check_host_port(text: &str) -> Result<(), String> {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => Ok(()),
        _ => Err(format!("expected \"host:port\", found {text:?}")),
    }
}
