//! Host figures the cgroup and container probes fall back to when there is no limit.

use std::sync::OnceLock;

/// Total RAM of the host in bytes (read once).
pub fn host_memory_bytes() -> u64 {
    static TOTAL: OnceLock<u64> = OnceLock::new();
    *TOTAL.get_or_init(|| {
        let mut sys = sysinfo::System::new();
        sys.refresh_memory();
        sys.total_memory()
    })
}

/// CPUs this process may run on, before any cgroup quota.
pub fn host_cpus() -> f64 {
    static CPUS: OnceLock<usize> = OnceLock::new();
    let n = *CPUS.get_or_init(|| {
        let mut sys = sysinfo::System::new();
        sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
        sys.cpus().len().max(1)
    });
    n as f64
}

/// Bytes as a short human figure ("412 MiB", "1.5 GiB").
pub(crate) fn human_bytes(bytes: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    let b = bytes as f64;
    if b >= GIB { format!("{:.1} GiB", b / GIB) } else { format!("{:.0} MiB", b / (1u64 << 20) as f64) }
}
