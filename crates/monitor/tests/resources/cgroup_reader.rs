//! The cgroup reader on fixture trees (v1 hybrid, v2, no limits, nested limits, PSI present
//! and absent) and on this machine's own cgroup.

use std::path::PathBuf;

use elf_resilience_monitor::probes::CgroupReader;
use elf_resilience_monitor::probes::cgroup::{
    CgroupCpu, CgroupVersion, LIMIT_REREAD_EVERY, cpu_percent, throttled_ratio,
};

fn fixture(name: &str) -> CgroupReader {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup").join(name);
    CgroupReader::at_root(root).unwrap()
}

const MIB: u64 = 1 << 20;

#[test]
fn v1_hybrid_takes_the_smallest_ancestor_limit_and_total_inactive_file() {
    let r = fixture("v1_nested");
    assert_eq!(r.version(), CgroupVersion::V1);
    let m = r.memory().unwrap();
    assert_eq!(m.usage_bytes, 300 * MIB);
    assert_eq!(m.inactive_file_bytes, 50 * MIB);
    assert_eq!(m.working_set_bytes, 250 * MIB);
    assert_eq!(m.limit_bytes, Some(512 * MIB));
    let c = r.cpu().unwrap();
    assert_eq!(c.usage_nanos, 5_000_000_000);
    assert_eq!(c.quota_cpus, Some(1.5));
    assert_eq!((c.nr_periods, c.nr_throttled), (200, 50));
    let p = r.pressure();
    assert_eq!((p.cpu, p.memory, p.io), (Some(2.5), Some(0.75), Some(4.0)));
}

#[test]
fn v2_nested_limits_and_own_pressure_files() {
    let r = fixture("v2_nested");
    assert_eq!(r.version(), CgroupVersion::V2);
    let m = r.memory().unwrap();
    assert_eq!(m.working_set_bytes, 128 * MIB);
    assert_eq!(m.limit_bytes, Some(256 * MIB));
    let c = r.cpu().unwrap();
    assert_eq!(c.usage_nanos, 2_000_000_000);
    assert_eq!(c.quota_cpus, Some(0.5));
    assert_eq!((c.nr_periods, c.nr_throttled), (40, 10));
    let s = r.sample();
    assert_eq!((s.pressure.cpu, s.pressure.memory, s.pressure.io), (Some(12.0), Some(0.5), Some(1.25)));
}

#[test]
fn v2_without_limits_or_pressure_and_with_odd_files() {
    let r = fixture("v2_unlimited");
    let m = r.memory().unwrap();
    assert_eq!(m.limit_bytes, None);
    assert_eq!(m.inactive_file_bytes, 0);
    assert_eq!(m.working_set_bytes, 100 * MIB);
    let c = r.cpu().unwrap();
    assert_eq!(c.quota_cpus, None);
    let p = r.pressure();
    assert_eq!((p.cpu, p.memory, p.io), (None, None, None));
}

#[test]
fn container_namespaces_map_to_the_mount_point() {
    let docker = fixture("docker");
    assert_eq!(docker.memory().unwrap().limit_bytes, Some(1024 * MIB));
    assert_eq!(docker.cpu().unwrap().quota_cpus, Some(2.0));
    let k8s = fixture("k8s");
    assert_eq!(k8s.version(), CgroupVersion::V1);
    assert_eq!(k8s.memory().unwrap().limit_bytes, Some(2048 * MIB));
    assert_eq!(k8s.cpu().unwrap().quota_cpus, None);
    assert_eq!(k8s.cpu().unwrap().usage_nanos, 1_000_000);
}

#[test]
fn missing_files_give_none_not_a_panic() {
    let bare = fixture("bare");
    assert_eq!(bare.cpu(), None);
    assert_eq!(bare.memory().unwrap().working_set_bytes, MIB);
    let nowhere = std::env::temp_dir().join("elf-no-such-root");
    assert!(CgroupReader::at_root(nowhere).is_err());
}

#[test]
fn cpu_rate_and_throttling_from_deltas() {
    let prev =
        CgroupCpu { usage_nanos: 1_000_000_000, quota_cpus: Some(0.5), nr_periods: 10, nr_throttled: 1 };
    let cur = CgroupCpu { usage_nanos: 1_250_000_000, nr_periods: 20, nr_throttled: 6, ..prev };
    // 0.25 s of CPU in 1 s against half a CPU: 50 %.
    assert_eq!(cpu_percent(&prev, &cur, 1_000_000_000, 8.0), Some(50.0));
    assert_eq!(throttled_ratio(&prev, &cur), Some(0.5));
    let no_quota = CgroupCpu { quota_cpus: None, ..cur };
    assert_eq!(cpu_percent(&prev, &no_quota, 1_000_000_000, 2.0), Some(12.5));
    assert_eq!(throttled_ratio(&prev, &prev), None);
    assert_eq!(cpu_percent(&prev, &cur, 0, 2.0), None);
}

#[test]
fn cpu_percent_never_exceeds_100() {
    let prev = CgroupCpu { usage_nanos: 0, quota_cpus: Some(1.0), nr_periods: 0, nr_throttled: 0 };
    // 1.016 s of CPU counted in a second (a burst, or readings a little apart from the clock).
    let cur = CgroupCpu { usage_nanos: 1_016_000_000, ..prev };
    assert_eq!(cpu_percent(&prev, &cur, 1_000_000_000, 8.0), Some(100.0));
}

#[test]
fn this_machine_has_a_readable_cgroup() {
    let r = match CgroupReader::detect() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skipping: no cgroup hierarchy here ({e})");
            return;
        }
    };
    let m = r.memory().expect("memory controller readable");
    assert!(m.usage_bytes > 0, "{m:?}");
    assert!(m.working_set_bytes <= m.usage_bytes);
    if let Some(limit) = m.limit_bytes {
        assert!(limit > 0);
    }
    let c = r.cpu().expect("cpu controllers readable");
    assert!(c.usage_nanos > 0, "{c:?}");
    assert!(c.nr_throttled <= c.nr_periods);
    if std::path::Path::new("/proc/pressure/cpu").exists() {
        let cpu_psi = r.pressure().cpu.expect("PSI readable where /proc/pressure exists");
        assert!((0.0..=100.0).contains(&cpu_psi));
    }
}

#[test]
fn limits_are_cached_and_read_again_after_a_while() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup/docker");
    let root = std::env::temp_dir().join(format!("elf-cgroup-limits-{}", std::process::id()));
    std::fs::create_dir_all(root.join("proc/self")).unwrap();
    std::fs::create_dir_all(root.join("sys/fs/cgroup")).unwrap();
    for f in ["proc/self/cgroup", "proc/self/mountinfo"] {
        std::fs::copy(src.join(f), root.join(f)).unwrap();
    }
    for f in ["memory.max", "memory.current", "memory.stat", "cpu.max", "cpu.stat"] {
        std::fs::copy(src.join("sys/fs/cgroup").join(f), root.join("sys/fs/cgroup").join(f)).unwrap();
    }
    let r = CgroupReader::at_root(&root).unwrap();
    assert_eq!(r.memory().unwrap().limit_bytes, Some(1024 * MIB));
    std::fs::write(root.join("sys/fs/cgroup/memory.max"), "max\n").unwrap();
    std::fs::write(root.join("sys/fs/cgroup/memory.current"), "1048576\n").unwrap();
    let cached = r.memory().unwrap();
    assert_eq!((cached.usage_bytes, cached.limit_bytes), (MIB, Some(1024 * MIB)));
    let mut limits = Vec::new();
    for _ in 2..=LIMIT_REREAD_EVERY {
        limits.push(r.memory().unwrap().limit_bytes);
    }
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(limits.iter().filter(|l| l.is_some()).count(), LIMIT_REREAD_EVERY as usize - 2);
    assert_eq!(limits.last(), Some(&None));
}

/// A writable copy of a fixture tree.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup").join(name), dir.path());
    dir
}

#[test]
fn kept_open_files_show_content_changed_between_samples() {
    let root = copy_fixture("v2_nested");
    let dir = root.path().join("sys/fs/cgroup/system.slice/app.service");
    let r = CgroupReader::at_root(root.path()).unwrap();
    let first = r.sample();
    assert_eq!(first.memory.unwrap().usage_bytes, 160 * MIB);
    std::fs::write(dir.join("memory.current"), format!("{}\n", 200 * MIB)).unwrap();
    std::fs::write(dir.join("cpu.stat"), "usage_usec 3000000\nnr_periods 50\nnr_throttled 20\n").unwrap();
    std::fs::write(dir.join("cpu.pressure"), "some avg10=33.00 avg60=0 avg300=0 total=1\n").unwrap();
    let second = r.sample();
    let m = second.memory.unwrap();
    assert_eq!((m.usage_bytes, m.working_set_bytes), (200 * MIB, 168 * MIB));
    let c = second.cpu.unwrap();
    assert_eq!((c.usage_nanos, c.nr_periods, c.nr_throttled), (3_000_000_000, 50, 20));
    assert_eq!(second.pressure.cpu, Some(33.0));
}

#[test]
fn a_replaced_file_is_read_within_the_reopen_bound() {
    let root = copy_fixture("docker");
    let current = root.path().join("sys/fs/cgroup/memory.current");
    let r = CgroupReader::at_root(root.path()).unwrap();
    let before = r.memory().unwrap().usage_bytes;
    std::fs::remove_file(&current).unwrap();
    std::fs::write(&current, format!("{}\n", before + MIB)).unwrap();
    let seen: Vec<u64> = (0..LIMIT_REREAD_EVERY).map(|_| r.memory().unwrap().usage_bytes).collect();
    assert_eq!(seen.last(), Some(&(before + MIB)), "{seen:?}");
}

#[test]
fn a_removed_cgroup_reads_as_missing_and_a_recreated_one_is_read_again() {
    let root = copy_fixture("v2_nested");
    let dir = root.path().join("sys/fs/cgroup/system.slice/app.service");
    let saved = copy_fixture("v2_nested");
    let r = CgroupReader::at_root(root.path()).unwrap();
    assert!(r.sample().memory.is_some());
    std::fs::remove_dir_all(&dir).unwrap();
    let gone: Vec<bool> = (0..=LIMIT_REREAD_EVERY).map(|_| r.sample().memory.is_some()).collect();
    assert_eq!(gone.last(), Some(&false), "{gone:?}");
    assert_eq!(r.sample().pressure.cpu, None);
    std::fs::create_dir_all(&dir).unwrap();
    let from = saved.path().join("sys/fs/cgroup/system.slice/app.service");
    for f in ["memory.current", "memory.stat", "cpu.stat", "cpu.pressure"] {
        std::fs::copy(from.join(f), dir.join(f)).unwrap();
    }
    let back = r.sample();
    assert_eq!(back.memory.map(|m| m.usage_bytes), Some(160 * MIB));
    assert_eq!(back.cpu.map(|c| c.usage_nanos), Some(2_000_000_000));
    assert_eq!(back.pressure.cpu, Some(12.0));
}
