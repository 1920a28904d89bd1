//! The files one sample reads, kept open, with one buffer for all of them and the cached limits.

use std::path::{Path, PathBuf};

use super::kept::KeptFile;
use super::locate::{CgroupDir, CgroupPaths, CgroupVersion};
use super::parse::{
    Limit, parse_cpu_max, parse_keyed, parse_limit, parse_psi_some_avg10, parse_u64, quota_in_micro_cpus,
};
use super::reader::{CgroupCpu, CgroupMemory, LIMIT_REREAD_EVERY, Pressure};

/// The usage files of one cgroup, kept open between samples.
#[derive(Debug)]
pub(super) struct CgroupFiles {
    version: CgroupVersion,
    memory_usage: Option<KeptFile>,
    memory_stat: Option<KeptFile>,
    cpu_stat: Option<KeptFile>,
    cpuacct_usage: Option<KeptFile>,
    psi: [Option<KeptFile>; 3],
    buf: Vec<u8>,
    limits: LimitCache,
}

/// Limits and how many more reads each serves before it is read again.
#[derive(Debug, Default)]
struct LimitCache {
    memory: Option<(u32, Option<u64>)>,
    cpu: Option<(u32, Option<u64>)>,
}

impl CgroupFiles {
    /// The files of `paths`, with the pressure files found beforehand.
    pub(super) fn new(paths: &CgroupPaths, psi: [Option<PathBuf>; 3]) -> Self {
        let kept = |dir: &Option<CgroupDir>, name: &str| dir.as_ref().map(|d| KeptFile::new(d.file(name)));
        let (usage, cpuacct) = match paths.version {
            CgroupVersion::V1 => ("memory.usage_in_bytes", kept(&paths.cpuacct, "cpuacct.usage")),
            CgroupVersion::V2 => ("memory.current", None),
        };
        Self {
            version: paths.version,
            memory_usage: kept(&paths.memory, usage),
            memory_stat: kept(&paths.memory, "memory.stat"),
            cpu_stat: kept(&paths.cpu, "cpu.stat"),
            cpuacct_usage: cpuacct,
            psi: psi.map(|p| p.map(KeptFile::new)),
            buf: Vec::new(),
            limits: LimitCache::default(),
        }
    }

    /// The cgroup's memory; `dir` is the memory controller's directory.
    pub(super) fn memory(&mut self, dir: &CgroupDir) -> Option<CgroupMemory> {
        let (limit, inactive) = match self.version {
            CgroupVersion::V1 => ("memory.limit_in_bytes", "total_inactive_file"),
            CgroupVersion::V2 => ("memory.max", "inactive_file"),
        };
        let usage_bytes = self.memory_usage.as_mut()?.read(&mut self.buf).and_then(parse_u64)?;
        let stat = self.memory_stat.as_mut().and_then(|f| f.read(&mut self.buf)).unwrap_or_default();
        let inactive_file_bytes =
            parse_keyed(stat, inactive).or_else(|| parse_keyed(stat, "inactive_file")).unwrap_or(0);
        let limit_bytes =
            cached(&mut self.limits.memory, || min_over_ancestors(dir, |d| read_limit(&d.join(limit))));
        let working_set_bytes = usage_bytes.saturating_sub(inactive_file_bytes);
        Some(CgroupMemory { usage_bytes, inactive_file_bytes, working_set_bytes, limit_bytes })
    }

    /// The cgroup's CPU counters; `dir` is the CPU controller's directory.
    pub(super) fn cpu(&mut self, dir: &CgroupDir) -> Option<CgroupCpu> {
        let stat = self.cpu_stat.as_mut().and_then(|f| f.read(&mut self.buf)).unwrap_or_default();
        let (nr_periods, nr_throttled) =
            (parse_keyed(stat, "nr_periods").unwrap_or(0), parse_keyed(stat, "nr_throttled").unwrap_or(0));
        let usage_nanos = match self.version {
            CgroupVersion::V2 => parse_keyed(stat, "usage_usec")?.saturating_mul(1000),
            CgroupVersion::V1 => self.cpuacct_usage.as_mut()?.read(&mut self.buf).and_then(parse_u64)?,
        };
        let version = self.version;
        let micro = cached(&mut self.limits.cpu, || match version {
            CgroupVersion::V2 => {
                min_over_ancestors(dir, |d| read(&d.join("cpu.max")).as_deref().and_then(parse_cpu_max))
            }
            CgroupVersion::V1 => min_over_ancestors(dir, v1_quota),
        });
        let quota_cpus = micro.map(|m| m as f64 / 1e6);
        Some(CgroupCpu { usage_nanos, quota_cpus, nr_periods, nr_throttled })
    }

    /// The `some avg10` figures of the pressure files.
    pub(super) fn pressure(&mut self) -> Pressure {
        let buf = &mut self.buf;
        let [cpu, memory, io] =
            self.psi.each_mut().map(|f| f.as_mut().and_then(|f| f.read(buf)).and_then(parse_psi_some_avg10));
        Pressure { cpu, memory, io }
    }
}

/// A limit from the cache, read again after [`LIMIT_REREAD_EVERY`] uses.
fn cached(entry: &mut Option<(u32, Option<u64>)>, read: impl FnOnce() -> Option<u64>) -> Option<u64> {
    match entry {
        Some((left, value)) if *left > 0 => {
            *left -= 1;
            *value
        }
        _ => {
            let value = read();
            *entry = Some((LIMIT_REREAD_EVERY - 1, value));
            value
        }
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn read_limit(path: &Path) -> Option<Limit> {
    read(path).as_deref().and_then(parse_limit)
}

fn v1_quota(dir: &Path) -> Option<Limit> {
    match read_limit(&dir.join("cpu.cfs_quota_us"))? {
        Limit::Unlimited => Some(Limit::Unlimited),
        Limit::Value(q) => {
            let period = read(&dir.join("cpu.cfs_period_us")).as_deref().and_then(parse_u64)?;
            quota_in_micro_cpus(q, period)
        }
    }
}

/// The smallest limit over the directory and its ancestors; `None` when none is set.
fn min_over_ancestors(dir: &CgroupDir, limit: impl Fn(&Path) -> Option<Limit>) -> Option<u64> {
    dir.ancestors()
        .filter_map(|d| match limit(d)? {
            Limit::Value(v) => Some(v),
            Limit::Unlimited => None,
        })
        .min()
}
