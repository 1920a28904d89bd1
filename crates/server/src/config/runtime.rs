//! The `[queue]` and `[breakers]` sections: replay of queued requests over HTTP, and the
//! breakers shared between processes.

use serde::{Deserialize, Serialize};

use super::{HttpUrl, HumanDuration};

/// Replay of queued requests by `serve`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Queue {
    /// How often the worker looks for ready requests. Default 5 s.
    pub interval: Option<HumanDuration>,
    /// How long a request waits after its first failed attempt; each further failure doubles
    /// the wait. Default 30 s.
    pub retry_in: Option<HumanDuration>,
    /// The longest wait between failed attempts. Default 10 min (or `retry_in`, if longer).
    pub max_retry_in: Option<HumanDuration>,
    /// Consecutive failed deliveries that open a handler's breaker (`queue:<handler>`), which
    /// holds its requests back without spending their attempts. Default 5.
    pub breaker_failure_threshold: Option<std::num::NonZeroU32>,
    /// How long a handler's open breaker waits before letting one delivery through. Default 30 s.
    pub breaker_recovery_timeout: Option<HumanDuration>,
    /// How long one delivery may take before the request is handed out again. Default 60 s.
    pub lease_for: Option<HumanDuration>,
    /// How many bytes of a handler's reply are kept as the request's result; a longer reply
    /// is kept truncated (`{"truncated": true, "limit_bytes": N, "head": "..."}`) and the rest
    /// is not read. Default 1 MiB.
    pub max_result_bytes: Option<u64>,
    /// Where requests queued under each handler name are delivered.
    pub handlers: Vec<QueueHandler>,
}

/// Requests queued under `name` are POSTed (the payload as JSON) to `url`; a 2xx answer
/// completes them, anything else is a failed attempt.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueueHandler {
    /// The handler name requests were queued under.
    pub name: String,
    /// Where to POST; shown redacted.
    pub url: HttpUrl,
    /// The resource that must be usable for replay (a resource type name). Default `api_quota`.
    pub resource: Option<String>,
    /// How long one POST may take. Default 30 s.
    pub timeout: Option<HumanDuration>,
}

impl QueueHandler {
    /// The gating resource, defaulted; checked when the config is parsed.
    pub fn resource_type(&self) -> Result<elf_resilience::ResourceType, String> {
        self.resource
            .as_deref()
            .unwrap_or("api_quota")
            .parse()
            .map_err(|e| format!("handler `{}`: expected a resource type: {e}", self.name))
    }
}

/// Breakers shared between processes through `<data_dir>/breakers.db`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Breakers {
    /// How often this process publishes its breakers and applies commands. Default 5 s.
    pub publish_interval: Option<HumanDuration>,
    /// Another process's breaker not updated for this long is shown stale. Default 30 s.
    pub stale_after: Option<HumanDuration>,
    /// ... and dropped after this long. Default 10 min.
    pub drop_after: Option<HumanDuration>,
}
