//! Reading memory, CPU and pressure figures of the process's own cgroup.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::locate::{CgroupDir, CgroupPaths, CgroupVersion, resolve};
use super::parse::{
    Limit, parse_cpu_max, parse_keyed, parse_limit, parse_mountinfo, parse_proc_cgroup, parse_psi_some_avg10,
    parse_u64, quota_in_micro_cpus,
};
use crate::resources::probe::ProbeError;

/// Memory of a cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CgroupMemory {
    /// Charged memory (`memory.current` / `memory.usage_in_bytes`).
    pub usage_bytes: u64,
    /// Inactive file cache, reclaimable.
    pub inactive_file_bytes: u64,
    /// Usage less inactive file cache: what the OOM killer looks at.
    pub working_set_bytes: u64,
    /// The effective limit: the smallest over the cgroup and its ancestors; `None`: no limit.
    pub limit_bytes: Option<u64>,
}

/// CPU counters of a cgroup, to be compared with a later reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CgroupCpu {
    /// CPU time used, in nanoseconds.
    pub usage_nanos: u64,
    /// The effective quota in CPUs (smallest over ancestors); `None`: no quota.
    pub quota_cpus: Option<f64>,
    /// Enforcement periods elapsed.
    pub nr_periods: u64,
    /// Periods in which the cgroup was throttled.
    pub nr_throttled: u64,
}

/// Pressure stall information, `some avg10` (percent of the last 10 s some task stalled).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Pressure {
    /// CPU pressure.
    pub cpu: Option<f64>,
    /// Memory pressure.
    pub memory: Option<f64>,
    /// I/O pressure.
    pub io: Option<f64>,
}

/// One reading of everything the reader knows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CgroupSample {
    /// Memory, when the controller is readable.
    pub memory: Option<CgroupMemory>,
    /// CPU, when the controllers are readable.
    pub cpu: Option<CgroupCpu>,
    /// Pressure, where present.
    pub pressure: Pressure,
}

/// Reads the process's own cgroup under a file system root (`/`, or a fixture tree).
///
/// ```no_run
/// use elf_resilience_monitor::probes::CgroupReader;
///
/// let reader = CgroupReader::detect().unwrap();
/// let sample = reader.sample();
/// println!("{:?} {:?}", reader.version(), sample.memory);
/// ```
///
/// Limits (memory limit, CPU quota) change rarely and cost one read per ancestor: the reader
/// re-reads them every [`LIMIT_REREAD_EVERY`] samples and caches them in between. Pressure
/// files are located once.
#[derive(Debug, Clone)]
pub struct CgroupReader {
    paths: CgroupPaths,
    psi: [Option<PathBuf>; 3],
    limits: Arc<Mutex<LimitCache>>,
}

/// How many reads a cached limit serves before it is read again.
pub const LIMIT_REREAD_EVERY: u32 = 16;

#[derive(Debug, Default)]
struct LimitCache {
    memory: Option<(u32, Option<u64>)>,
    cpu: Option<(u32, Option<u64>)>,
}

impl CgroupReader {
    /// The reader of this process's cgroup.
    pub fn detect() -> Result<Self, ProbeError> {
        Self::at_root("/")
    }

    /// The reader of the cgroup described by `root/proc/self/{cgroup,mountinfo}`.
    pub fn at_root(root: impl Into<PathBuf>) -> Result<Self, ProbeError> {
        let root = root.into();
        let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_default();
        let lines = parse_proc_cgroup(&read("proc/self/cgroup"));
        let mounts = parse_mountinfo(&read("proc/self/mountinfo"));
        let paths = resolve(&root, &lines, &mounts)
            .ok_or_else(|| ProbeError::Absent("no cgroup hierarchy found".into()))?;
        let psi = ["cpu", "memory", "io"].map(|name| locate_psi(&root, &paths, name));
        Ok(Self { paths, psi, limits: Arc::default() })
    }

    /// The version of the memory and CPU controllers.
    pub fn version(&self) -> CgroupVersion {
        self.paths.version
    }

    /// The resolved directories.
    pub fn paths(&self) -> &CgroupPaths {
        &self.paths
    }

    /// Memory, CPU and pressure in one go.
    pub fn sample(&self) -> CgroupSample {
        CgroupSample { memory: self.memory(), cpu: self.cpu(), pressure: self.pressure() }
    }

    /// The cgroup's memory.
    pub fn memory(&self) -> Option<CgroupMemory> {
        let dir = self.paths.memory.as_ref()?;
        let (usage, limit, inactive) = match self.paths.version {
            CgroupVersion::V1 => ("memory.usage_in_bytes", "memory.limit_in_bytes", "total_inactive_file"),
            CgroupVersion::V2 => ("memory.current", "memory.max", "inactive_file"),
        };
        let usage_bytes = read(&dir.file(usage)).as_deref().and_then(parse_u64)?;
        let stat = read(&dir.file("memory.stat")).unwrap_or_default();
        let inactive_file_bytes =
            parse_keyed(&stat, inactive).or_else(|| parse_keyed(&stat, "inactive_file")).unwrap_or(0);
        let limit_bytes =
            self.cached(|c| &mut c.memory, || min_over_ancestors(dir, |d| read_limit(&d.join(limit))));
        let working_set_bytes = usage_bytes.saturating_sub(inactive_file_bytes);
        Some(CgroupMemory { usage_bytes, inactive_file_bytes, working_set_bytes, limit_bytes })
    }

    /// The cgroup's CPU counters.
    pub fn cpu(&self) -> Option<CgroupCpu> {
        let cpu = self.paths.cpu.as_ref()?;
        let stat = read(&cpu.file("cpu.stat")).unwrap_or_default();
        let usage_nanos = match self.paths.version {
            CgroupVersion::V2 => parse_keyed(&stat, "usage_usec")?.saturating_mul(1000),
            CgroupVersion::V1 => {
                let acct = self.paths.cpuacct.as_ref()?;
                read(&acct.file("cpuacct.usage")).as_deref().and_then(parse_u64)?
            }
        };
        let micro = self.cached(
            |c| &mut c.cpu,
            || match self.paths.version {
                CgroupVersion::V2 => {
                    min_over_ancestors(cpu, |d| read(&d.join("cpu.max")).as_deref().and_then(parse_cpu_max))
                }
                CgroupVersion::V1 => min_over_ancestors(cpu, v1_quota),
            },
        );
        Some(CgroupCpu {
            usage_nanos,
            quota_cpus: micro.map(|m| m as f64 / 1e6),
            nr_periods: parse_keyed(&stat, "nr_periods").unwrap_or(0),
            nr_throttled: parse_keyed(&stat, "nr_throttled").unwrap_or(0),
        })
    }

    /// PSI from the unified cgroup, else from `/proc/pressure`.
    pub fn pressure(&self) -> Pressure {
        let [cpu, memory, io] = self
            .psi
            .each_ref()
            .map(|p| p.as_deref().and_then(read).as_deref().and_then(parse_psi_some_avg10));
        Pressure { cpu, memory, io }
    }

    /// A limit from the cache, read again after [`LIMIT_REREAD_EVERY`] uses.
    fn cached(
        &self,
        slot: impl Fn(&mut LimitCache) -> &mut Option<(u32, Option<u64>)>,
        read: impl FnOnce() -> Option<u64>,
    ) -> Option<u64> {
        let mut cache = self.limits.lock().unwrap_or_else(|e| e.into_inner());
        let entry = slot(&mut cache);
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
}

/// The pressure file for `name`: the unified cgroup's own, else the system-wide one.
fn locate_psi(root: &Path, paths: &CgroupPaths, name: &str) -> Option<PathBuf> {
    let own = paths.unified.as_ref().map(|u| u.file(&format!("{name}.pressure")));
    let system = root.join("proc/pressure").join(name);
    own.filter(|p| p.is_file()).or_else(|| system.is_file().then_some(system))
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

/// CPU use between two readings `elapsed_nanos` apart, in percent of the quota (or of
/// `host_cpus` when there is none).
pub fn cpu_percent(prev: &CgroupCpu, cur: &CgroupCpu, elapsed_nanos: u64, host_cpus: f64) -> Option<f64> {
    let cpus = cur.quota_cpus.unwrap_or(host_cpus);
    if elapsed_nanos == 0 || cpus <= 0.0 {
        return None;
    }
    let used = cur.usage_nanos.saturating_sub(prev.usage_nanos) as f64;
    Some(used * 100.0 / (elapsed_nanos as f64 * cpus))
}

/// Share of enforcement periods throttled between two readings (0–1); `None` when no period
/// elapsed.
pub fn throttled_ratio(prev: &CgroupCpu, cur: &CgroupCpu) -> Option<f64> {
    let periods = cur.nr_periods.saturating_sub(prev.nr_periods);
    let throttled = cur.nr_throttled.saturating_sub(prev.nr_throttled);
    (periods > 0).then(|| (throttled as f64 / periods as f64).min(1.0))
}
