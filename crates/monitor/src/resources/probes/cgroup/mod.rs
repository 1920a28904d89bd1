//! Cgroup v1 and v2: the container's view of memory and CPU, with throttling and pressure.

mod files;
mod kept;
mod locate;
mod parse;
mod probe;
mod reader;

pub use locate::{CgroupDir, CgroupPaths, CgroupVersion};
pub use parse::{
    CgroupLine, CgroupMount, Limit, parse_cpu_max, parse_keyed, parse_limit, parse_mountinfo,
    parse_proc_cgroup, parse_psi_some_avg10,
};
pub use probe::CgroupProbe;
pub(crate) use probe::{CpuTracker, memory_sample, read_blocking};
pub use reader::{
    CgroupCpu, CgroupMemory, CgroupReader, CgroupSample, LIMIT_REREAD_EVERY, Pressure, cpu_percent,
    throttled_ratio,
};
