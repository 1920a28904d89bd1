//! Cgroup v1 and v2: the container's view of memory and CPU, with throttling and pressure.
//!
//! The probe and the reader are [`CgroupProbe`](super::CgroupProbe) and
//! [`CgroupReader`](super::CgroupReader); this module holds what they read and parse.

mod files;
mod kept;
mod locate;
mod parse;
pub(super) mod probe;
pub(super) mod reader;

pub use locate::{CgroupDir, CgroupPaths, CgroupVersion};
pub use parse::{
    CgroupLine, CgroupMount, Limit, parse_cpu_max, parse_keyed, parse_limit, parse_mountinfo,
    parse_proc_cgroup, parse_psi_some_avg10,
};
pub(crate) use probe::{CpuTracker, memory_sample, read_blocking};
pub(crate) use reader::CgroupReader;
pub use reader::{
    CgroupCpu, CgroupMemory, CgroupSample, LIMIT_REREAD_EVERY, Pressure, cpu_percent, throttled_ratio,
};
