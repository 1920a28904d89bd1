//! The resource manager over scripted probes, and the system, cgroup and container probes on
//! fixture trees and on this machine.

mod cgroup_reader;
mod manager;
mod metrics;
mod probes;
mod quota_alternatives;
mod replay_gate;
