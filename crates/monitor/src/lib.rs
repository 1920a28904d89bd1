//! # elf-resilience-monitor
//!
//! Knowing how resources and health checks stand: the [`ResourceManager`] with its
//! probes (system, cgroup, container, database, network, MCP, API quota), the usage ledger and
//! quota tracking, and the health monitor.
//!
//! The probes and sinks that need a heavy client library are behind features; the
//! `elf-resilience` facade and the `elf-resilience` binary enable them all by default.
//!
//! | feature    | default | what it adds |
//! |------------|---------|--------------|
//! | `postgres` | no      | `probes::PostgresProbe` (tokio-postgres); `PoolStats` from a deadpool pool's status |
//! | `mcp`      | no      | `probes::McpProbe` for MCP servers over stdio or streamable HTTP (rmcp) |
//! | `http`     | no      | `probes::HttpProbe`, the `WebhookSink` and `PagerDutySink` alert sinks, `RateLimitSnapshot::from_header_map` (reqwest) |
//! | `mcp-test-server` | no | the `elf-mcp-test-server` binary the MCP probe's tests spawn |
//!
//! Always built: the system (sysinfo), cgroup, container, SQLite, pool, TCP and API-quota
//! probes, and the log and callback alert sinks.

mod health;
pub mod quota;
mod resources;

pub use health::{
    AlertError, AlertReason, AlertRetry, AlertSink, CallbackSink, CheckFn, CheckOutcome, CheckReport,
    DEFAULT_CHECK_INTERVAL, DEFAULT_CHECK_TIMEOUT, DEFAULT_JITTER_SEED, DISK_THRESHOLD, FLAP_WINDOW,
    FlapChange, FlapDetector, FlapThresholds, HEALTH_JSON_CONTENT_TYPE, HealthCheck, HealthCheckBuilder,
    HealthCheckError, HealthCheckResult, HealthMonitor, HealthMonitorBuilder, HealthReport, HealthStatus,
    History, HistoryEntry, Hysteresis, IntoCheckOutcome, InvalidFlapThresholds, LogSink, SharedAlertSink,
    Transition, aggregate_health, format_rfc3339, health_json, health_json_status, jitter_fraction,
    pagerduty_event, resource_outcome, slack_payload,
};
#[cfg(feature = "http")]
pub use health::{PagerDutySink, WebhookSink};
pub use quota::headers::{LimitKind, LimitState, RateLimitSnapshot};
pub use quota::limits::{QuotaConfigError, QuotaLimit, QuotaWindow};
pub use quota::llm_error::LlmErrorKind;
pub use quota::parse::{parse_go_duration, parse_retry_after, parse_rfc3339};
pub use quota::source::ApiQuotaProbe;
pub use quota::tracker::{QuotaTracker, QuotaTrackerBuilder};
pub use quota::{
    InMemoryLedger, LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger,
};
pub use resources::probes;
pub use resources::{
    Alternative, BoxFuture, DEFAULT_PROBE_INTERVAL, DEFAULT_PROBE_TIMEOUT, DEFAULT_READING_TTL, Probe,
    ProbeError, ProbeSummary, QuotaSource, ResourceManager, ResourceManagerBuilder, ResourceManagerError,
    ResourceReading, ResourceReport, ResourceSummary, Sample, SystemSummary, Threshold, Thresholds,
    UsageTotal,
};
