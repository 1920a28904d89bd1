//! # elf-resilience-monitor
//!
//! Knowing how resources and health checks stand: the [`ResourceManager`](resources) with its
//! probes (system, cgroup, container, database, network, MCP, API quota), the usage ledger and
//! quota tracking, and the health monitor.
//!
//! The probes and sinks that need a heavy client library are behind features; the
//! `elf-resilience` facade and the `elf-resilience` binary enable them all by default.
//!
//! | feature    | default | what it adds |
//! |------------|---------|--------------|
//! | `postgres` | no      | [`PostgresProbe`](probes::PostgresProbe) (tokio-postgres); `PoolStats` from a deadpool pool's status |
//! | `mcp`      | no      | [`McpProbe`](probes::McpProbe) for MCP servers over stdio or streamable HTTP (rmcp) |
//! | `http`     | no      | [`HttpProbe`](probes::HttpProbe), the [`WebhookSink`] and [`PagerDutySink`] alert sinks, `RateLimitSnapshot::from_header_map` (reqwest) |
//! | `mcp-test-server` | no | the `elf-mcp-test-server` binary the MCP probe's tests spawn |
//!
//! Always built: the system (sysinfo), cgroup, container, SQLite, pool, TCP and API-quota
//! probes, and the log and callback alert sinks.

pub mod health;
pub mod quota;
pub mod resources;

pub use health::*;
pub use quota::*;
pub use resources::*;
