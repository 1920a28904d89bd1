//! Probes that measure resources: host memory and CPU, cgroup limits and usage, containers.
//!
//! Each probe kind lives in its own module here; further kinds (database, network, MCP
//! server) are added as sibling modules with their `mod` and `pub use` lines below.

pub mod cgroup;
pub mod container;
mod database;
mod database_pool;
mod database_sqlite;
mod host;
mod mcp;
mod network;
mod network_http;
mod system;

pub use cgroup::{CgroupProbe, CgroupReader};
pub use container::{ContainerEnv, ContainerProbe, Detection, PodIdentity};
pub use database::{DatabaseProbeError, PostgresProbe};
pub use database_pool::{PoolProbe, PoolStats};
pub use database_sqlite::SqliteProbe;
pub use host::{host_cpus, host_memory_bytes};
pub use mcp::{McpProbe, McpTransport};
pub use network::{DEFAULT_NETWORK_TIMEOUT, TcpProbe};
pub use network_http::{HttpProbe, HttpProbeError};
pub use system::SystemProbe;
