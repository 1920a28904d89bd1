//! Probes that measure resources: host memory and CPU, cgroup limits and usage, containers.
//!
//! Each probe kind lives in its own module here; further kinds (database, network, MCP
//! server) are added as sibling modules with their `mod` and `pub use` lines below.

mod network;
mod network_http;

pub use network::{DEFAULT_NETWORK_TIMEOUT, TcpProbe};
pub use network_http::{HttpProbe, HttpProbeError};
