//! # elf-resilience-monitor
//!
//! Knowing how resources and health checks stand: the [`ResourceManager`](resources) with its
//! probes (system, cgroup, container, database, network, MCP, API quota), the usage ledger and
//! quota tracking, and the health monitor.

pub mod health;
pub mod quota;
pub mod resources;

pub use health::*;
pub use quota::*;
pub use resources::*;
