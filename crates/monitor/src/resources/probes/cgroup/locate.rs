//! Finding the process's own cgroup directories from `/proc/self/cgroup` and mountinfo.

use std::path::{Path, PathBuf};

use super::parse::{CgroupLine, CgroupMount};

/// Which cgroup version the memory and CPU controllers are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CgroupVersion {
    /// Legacy (or hybrid) hierarchies, one per controller.
    V1,
    /// The unified hierarchy.
    V2,
}

/// A cgroup directory and the mount point above which its ancestors stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupDir {
    /// The process's cgroup directory.
    pub dir: PathBuf,
    /// The hierarchy's mount point.
    pub mount: PathBuf,
}

impl CgroupDir {
    /// The directory and its ancestors up to the mount point, innermost first.
    pub fn ancestors(&self) -> impl Iterator<Item = &Path> {
        let mount = self.mount.as_path();
        let mut done = false;
        self.dir.ancestors().take_while(move |p| {
            let keep = !done && p.starts_with(mount);
            done = *p == mount;
            keep
        })
    }

    /// A file in the process's own directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The directories of the controllers this crate reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupPaths {
    /// The version of the memory and CPU controllers.
    pub version: CgroupVersion,
    /// Memory controller.
    pub memory: Option<CgroupDir>,
    /// CPU controller (quota, throttling).
    pub cpu: Option<CgroupDir>,
    /// CPU accounting (usage); the same as `cpu` on v2.
    pub cpuacct: Option<CgroupDir>,
    /// The unified hierarchy, for pressure files.
    pub unified: Option<CgroupDir>,
}

/// Resolves the controllers' directories under `root` (a file system root: `/` or a fixture).
pub fn resolve(root: &Path, lines: &[CgroupLine], mounts: &[CgroupMount]) -> Option<CgroupPaths> {
    let v1 = |controller: &str| find_v1(root, lines, mounts, controller);
    let unified = find_v2(root, lines, mounts);
    let (memory, cpu, cpuacct) = (v1("memory"), v1("cpu"), v1("cpuacct"));
    if memory.is_some() || cpu.is_some() {
        let version = CgroupVersion::V1;
        return Some(CgroupPaths { version, memory, cpu, cpuacct, unified });
    }
    let dir = unified.clone()?;
    let (memory, cpu, cpuacct) = (Some(dir.clone()), Some(dir.clone()), Some(dir));
    Some(CgroupPaths { version: CgroupVersion::V2, memory, cpu, cpuacct, unified })
}

fn find_v1(root: &Path, lines: &[CgroupLine], mounts: &[CgroupMount], controller: &str) -> Option<CgroupDir> {
    let line = lines.iter().find(|l| l.controllers.iter().any(|c| c == controller))?;
    let has = |m: &&CgroupMount| !m.unified && m.super_options.iter().any(|o| o == controller);
    let mount = mounts.iter().find(has)?;
    Some(join(root, mount, &line.path))
}

fn find_v2(root: &Path, lines: &[CgroupLine], mounts: &[CgroupMount]) -> Option<CgroupDir> {
    let line = lines.iter().find(|l| l.controllers.is_empty())?;
    let mount = mounts.iter().find(|m| m.unified)?;
    Some(join(root, mount, &line.path))
}

/// The directory of `path` inside `mount`; the mount point itself when the path lies outside
/// the mounted root or does not exist (as in a container without its own cgroup namespace).
fn join(root: &Path, mount: &CgroupMount, path: &str) -> CgroupDir {
    let mount_dir = root.join(mount.mount_point.trim_start_matches('/'));
    let inner = match mount.root.as_str() {
        "/" => Some(path),
        r => path.strip_prefix(r).filter(|rest| rest.is_empty() || rest.starts_with('/')),
    };
    let dir = inner.map(|rel| mount_dir.join(rel.trim_start_matches('/')));
    let dir = dir.filter(|d| d.is_dir()).unwrap_or_else(|| mount_dir.clone());
    CgroupDir { dir, mount: mount_dir }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_stop_at_the_mount() {
        let d = CgroupDir { dir: "/m/a/b".into(), mount: "/m".into() };
        let got: Vec<&Path> = d.ancestors().collect();
        assert_eq!(got, [Path::new("/m/a/b"), Path::new("/m/a"), Path::new("/m")]);
        let top = CgroupDir { dir: "/m".into(), mount: "/m".into() };
        assert_eq!(top.ancestors().count(), 1);
    }
}
