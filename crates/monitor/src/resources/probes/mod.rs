//! Probes that measure resources: host memory and CPU, cgroup limits and usage, containers.
//!
//! Each probe kind lives in its own module here. `PostgresProbe` needs the `postgres` feature,
//! `McpProbe` the `mcp` feature and `HttpProbe` the `http` feature.

#[cfg(any(feature = "postgres", feature = "mcp"))]
mod cause;
pub mod cgroup;
pub mod container;
#[cfg(feature = "postgres")]
mod database;
mod database_pool;
mod database_sqlite;
mod host;
#[cfg(feature = "mcp")]
mod mcp;
#[cfg(feature = "mcp")]
mod mcp_cause;
#[cfg(feature = "mcp")]
mod mcp_stdio;
mod network;
#[cfg(feature = "http")]
mod network_http;
mod redact;
mod system;

pub use cgroup::probe::CgroupProbe;
pub use cgroup::reader::CgroupReader;
pub use container::probe::ContainerProbe;
#[cfg(feature = "postgres")]
pub use database::{DatabaseProbeError, PostgresProbe};
pub use database_pool::{PoolProbe, PoolStats};
pub use database_sqlite::SqliteProbe;
pub use host::{host_cpus, host_memory_bytes};
#[cfg(feature = "mcp")]
pub use mcp::{McpProbe, McpTransport};
pub use network::{DEFAULT_NETWORK_TIMEOUT, TcpProbe};
#[cfg(feature = "http")]
pub use network_http::{HttpProbe, HttpProbeError};
pub use redact::{redact_url, scrub_url, url_secrets};
pub use system::SystemProbe;
