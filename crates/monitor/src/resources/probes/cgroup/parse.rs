//! Pure parsers over the contents of cgroup and procfs files. Anything odd gives `None`
//! (with a debug event), never a panic.

/// One line of `/proc/self/cgroup`: `hierarchy-id:controllers:path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupLine {
    /// Controllers of the hierarchy (`memory`, `cpu`, `cpuacct`, ...); empty for cgroup v2.
    pub controllers: Vec<String>,
    /// The cgroup's path inside the hierarchy.
    pub path: String,
}

/// One cgroup mount from `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// The path inside the hierarchy that is mounted.
    pub root: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// `true` for `cgroup2`, `false` for a v1 `cgroup` mount.
    pub unified: bool,
    /// Super options (v1 controllers appear here: `rw,memory`).
    pub super_options: Vec<String>,
}

/// A limit file's value: a number or "no limit".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `max`, `-1` or a v1 "huge" value.
    Unlimited,
    /// A limit in the file's unit.
    Value(u64),
}

/// Values at or above this are v1's way of saying "no limit" (it prints 2^63 rounded to pages).
const V1_UNLIMITED: u64 = 1 << 62;

/// Parses `/proc/self/cgroup`, skipping malformed lines.
pub fn parse_proc_cgroup(text: &str) -> Vec<CgroupLine> {
    text.lines().filter_map(parse_cgroup_line).collect()
}

fn parse_cgroup_line(line: &str) -> Option<CgroupLine> {
    let mut parts = line.splitn(3, ':');
    let (_id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
    if !path.starts_with('/') {
        tracing::debug!(line, "ignored odd /proc/self/cgroup line");
        return None;
    }
    let controllers = controllers.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
    Some(CgroupLine { controllers, path: path.to_owned() })
}

/// Parses the cgroup mounts out of `/proc/self/mountinfo`.
pub fn parse_mountinfo(text: &str) -> Vec<CgroupMount> {
    text.lines().filter_map(parse_mount_line).collect()
}

fn parse_mount_line(line: &str) -> Option<CgroupMount> {
    let (before, after) = line.split_once(" - ")?;
    let fields: Vec<&str> = before.split_whitespace().collect();
    let mut tail = after.split_whitespace();
    let fstype = tail.next()?;
    let unified = match fstype {
        "cgroup2" => true,
        "cgroup" => false,
        _ => return None,
    };
    let super_options = tail.nth(1).unwrap_or("").split(',').map(str::to_owned).collect();
    let (root, mount_point) = (fields.get(3)?, fields.get(4)?);
    let (root, mount_point) = (unescape(root), unescape(mount_point));
    Some(CgroupMount { root, mount_point, unified, super_options })
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let value = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a single unsigned number.
pub fn parse_u64(text: &str) -> Option<u64> {
    let value = text.trim().parse().ok();
    if value.is_none() {
        tracing::debug!(text, "ignored unparseable cgroup number");
    }
    value
}

/// Parses a limit file (`memory.max`, `memory.limit_in_bytes`, `cpu.cfs_quota_us`).
pub fn parse_limit(text: &str) -> Option<Limit> {
    match text.trim() {
        "max" | "-1" => Some(Limit::Unlimited),
        t => parse_u64(t).map(|v| if v >= V1_UNLIMITED { Limit::Unlimited } else { Limit::Value(v) }),
    }
}

/// The value of `key` in a flat keyed file (`memory.stat`, `cpu.stat`).
pub fn parse_keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(char::is_whitespace)?;
        (k == key).then(|| parse_u64(v)).flatten()
    })
}

/// Parses v2 `cpu.max` (`"max 100000"`, `"50000 100000"`) into a quota in CPUs.
pub fn parse_cpu_max(text: &str) -> Option<Limit> {
    let mut parts = text.split_whitespace();
    let quota = parts.next()?;
    let period = parts.next().map_or(Some(100_000), parse_u64)?;
    match parse_limit(quota)? {
        Limit::Unlimited => Some(Limit::Unlimited),
        Limit::Value(q) => quota_in_micro_cpus(q, period),
    }
}

/// A v1 quota/period pair as a quota in millionths of a CPU.
pub fn quota_in_micro_cpus(quota_us: u64, period_us: u64) -> Option<Limit> {
    if period_us == 0 {
        tracing::debug!("ignored cpu quota with a zero period");
        return None;
    }
    Some(Limit::Value(quota_us.saturating_mul(1_000_000) / period_us))
}

/// The `some avg10` figure of a PSI file (`cpu.pressure`, `/proc/pressure/io`).
pub fn parse_psi_some_avg10(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    let field = line.split_whitespace().find_map(|f| f.strip_prefix("avg10="))?;
    let value = field.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    if value.is_none() {
        tracing::debug!(line, "ignored unparseable PSI line");
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_hybrid_proc_cgroup_and_mountinfo() {
        let lines = parse_proc_cgroup("4:memory:/a/b\n2:cpu,cpuacct:/\n0::/\ngarbage\n");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].controllers, ["memory"]);
        assert_eq!(lines[1].controllers, ["cpu", "cpuacct"]);
        assert!(lines[2].controllers.is_empty());
        let mounts = parse_mountinfo(
            "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
             41 31 0:38 / /sys/fs/cgroup/my\\040dir rw shared:9 - cgroup2 cgroup2 rw\n\
             22 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
        );
        assert_eq!(mounts.len(), 2);
        assert!(mounts[0].super_options.contains(&"memory".to_owned()));
        assert_eq!(mounts[1].mount_point, "/sys/fs/cgroup/my dir");
        assert!(mounts[1].unified);
    }

    #[test]
    fn parses_limits_and_keyed_files() {
        assert_eq!(parse_limit("max\n"), Some(Limit::Unlimited));
        assert_eq!(parse_limit("9223372036854771712"), Some(Limit::Unlimited));
        assert_eq!(parse_limit("-1"), Some(Limit::Unlimited));
        assert_eq!(parse_limit("536870912\n"), Some(Limit::Value(536_870_912)));
        assert_eq!(parse_limit("lots"), None);
        let stat = "anon 10\ninactive_file 4096\ntotal_inactive_file 8192\n";
        assert_eq!(parse_keyed(stat, "inactive_file"), Some(4096));
        assert_eq!(parse_keyed(stat, "total_inactive_file"), Some(8192));
        assert_eq!(parse_keyed(stat, "file"), None);
        assert_eq!(parse_cpu_max("50000 100000"), Some(Limit::Value(500_000)));
        assert_eq!(parse_cpu_max("max 100000"), Some(Limit::Unlimited));
        assert_eq!(parse_cpu_max("50000 0"), None);
        let psi = "some avg10=1.50 avg60=0.20 avg300=0.00 total=1\nfull avg10=0.00 total=0\n";
        assert_eq!(parse_psi_some_avg10(psi), Some(1.5));
        assert_eq!(parse_psi_some_avg10("some avg10=NaN"), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in "\\PC*") {
            let _ = parse_proc_cgroup(&text);
            let _ = parse_mountinfo(&text);
            let _ = parse_limit(&text);
            let _ = parse_keyed(&text, "usage_usec");
            let _ = parse_cpu_max(&text);
            let _ = parse_psi_some_avg10(&text);
        }

        #[test]
        fn mount_lines_never_panic(root in "[ -~]{0,20}", tail in "[ -~]{0,40}") {
            let line = format!("1 2 0:3 {root} /sys/fs/cgroup - cgroup2 {tail}");
            let _ = parse_mountinfo(&line);
        }

        #[test]
        fn numbers_round_trip(v in 0u64..(1 << 62)) {
            prop_assert_eq!(parse_limit(&format!("{v}\n")), Some(Limit::Value(v)));
            let stat = format!("nr_periods 1\nusage_usec {v}\n");
            prop_assert_eq!(parse_keyed(&stat, "usage_usec"), Some(v));
        }
    }
}
