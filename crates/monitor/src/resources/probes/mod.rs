//! Probes that measure resources: host memory and CPU, cgroup limits and usage, containers.
//!
//! Each probe kind lives in its own module here; further kinds (database, network, MCP
//! server) are added as sibling modules with their `mod` and `pub use` lines below.
