//! Reading memory, CPU and pressure figures of the process's own cgroup.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::files::CgroupFiles;
use super::locate::{CgroupPaths, CgroupVersion, resolve};
use super::parse::{parse_mountinfo, parse_proc_cgroup};
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
/// # Freshness
///
/// Usage, CPU counters and pressure are read on every sample. The files are resolved once
/// and kept open: a sample re-reads each from offset 0 (one `pread`), as the kernel builds
/// the content anew on each read. A read that fails (the cgroup was removed) reopens the
/// file at once; if that fails too the figure is missing and the probe reports `Unknown`
/// with the reason. Every file is also reopened after [`LIMIT_REREAD_EVERY`] reads, so a
/// file replaced on disk is seen within that many samples.
///
/// Limits (memory limit, CPU quota) change rarely and cost one read per ancestor: the reader
/// reads them again every [`LIMIT_REREAD_EVERY`] samples and caches them in between, so a
/// changed limit shows within that many samples. Clones share the open files and the cache.
#[derive(Debug, Clone)]
pub struct CgroupReader {
    paths: CgroupPaths,
    files: Arc<Mutex<CgroupFiles>>,
}

/// How many samples a cached limit, or a kept-open file, serves before it is read (or
/// opened) again.
pub const LIMIT_REREAD_EVERY: u32 = 16;

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
        let files = Arc::new(Mutex::new(CgroupFiles::new(&paths, psi)));
        Ok(Self { paths, files })
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
        let mut files = self.files();
        let memory = self.paths.memory.as_ref().and_then(|d| files.memory(d));
        let cpu = self.paths.cpu.as_ref().and_then(|d| files.cpu(d));
        CgroupSample { memory, cpu, pressure: files.pressure() }
    }

    /// The cgroup's memory.
    pub fn memory(&self) -> Option<CgroupMemory> {
        self.files().memory(self.paths.memory.as_ref()?)
    }

    /// The cgroup's CPU counters.
    pub fn cpu(&self) -> Option<CgroupCpu> {
        self.files().cpu(self.paths.cpu.as_ref()?)
    }

    /// PSI from the unified cgroup, else from `/proc/pressure`.
    pub fn pressure(&self) -> Pressure {
        self.files().pressure()
    }

    fn files(&self) -> std::sync::MutexGuard<'_, CgroupFiles> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The pressure file for `name`: the unified cgroup's own, else the system-wide one.
fn locate_psi(root: &Path, paths: &CgroupPaths, name: &str) -> Option<PathBuf> {
    let own = paths.unified.as_ref().map(|u| u.file(&format!("{name}.pressure")));
    let system = root.join("proc/pressure").join(name);
    own.filter(|p| p.is_file()).or_else(|| system.is_file().then_some(system))
}

/// CPU use between two readings `elapsed_nanos` apart, in percent of the quota (or of
/// `host_cpus` when there is none), at most 100 (a burst over the quota, or readings taken
/// a little apart from the clock, may add up to more).
pub fn cpu_percent(prev: &CgroupCpu, cur: &CgroupCpu, elapsed_nanos: u64, host_cpus: f64) -> Option<f64> {
    let cpus = cur.quota_cpus.unwrap_or(host_cpus);
    if elapsed_nanos == 0 || cpus <= 0.0 {
        return None;
    }
    let used = cur.usage_nanos.saturating_sub(prev.usage_nanos) as f64;
    Some((used * 100.0 / (elapsed_nanos as f64 * cpus)).clamp(0.0, 100.0))
}

/// Share of enforcement periods throttled between two readings (0–1); `None` when no period
/// elapsed.
pub fn throttled_ratio(prev: &CgroupCpu, cur: &CgroupCpu) -> Option<f64> {
    let periods = cur.nr_periods.saturating_sub(prev.nr_periods);
    let throttled = cur.nr_throttled.saturating_sub(prev.nr_throttled);
    (periods > 0).then(|| (throttled as f64 / periods as f64).min(1.0))
}
