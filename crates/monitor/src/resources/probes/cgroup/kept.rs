//! A cgroup file kept open and re-read from offset 0, so a sample costs one `pread` per file
//! instead of an open, a read and a close.
//!
//! cgroupfs and procfs regenerate a file's content on every read at offset 0, so a kept
//! descriptor always sees current figures. A removed cgroup makes reads fail (`ENODEV`): the
//! file is then reopened at once, and a failed reopen gives `None`. A file replaced on an
//! ordinary file system (a fixture tree) keeps its old descriptor readable, so every file is
//! also reopened after [`REOPEN_EVERY`] reads.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// How many reads one descriptor serves before the file is opened again: as many as a cached
/// limit serves.
pub(crate) const REOPEN_EVERY: u32 = super::reader::LIMIT_REREAD_EVERY;

/// Largest content read (the biggest cgroup file read, `memory.stat`, is a few kilobytes).
const MAX_LEN: usize = 1 << 20;

/// One file, opened lazily and kept open.
#[derive(Debug)]
pub(crate) struct KeptFile {
    path: PathBuf,
    file: Option<File>,
    reads: u32,
}

impl KeptFile {
    /// A file at `path`; nothing is opened until the first read.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path, file: None, reads: 0 }
    }

    /// The file's whole content, read into `buf` (reused between calls), as text; `None`
    /// when it cannot be opened or read, or is not UTF-8.
    pub(crate) fn read<'b>(&mut self, buf: &'b mut Vec<u8>) -> Option<&'b str> {
        if self.reads >= REOPEN_EVERY {
            self.file = None;
        }
        let kept = self.file.is_some();
        let len = match self.read_once(buf) {
            Ok(len) => len,
            // The descriptor went stale (the cgroup was removed): try a fresh one.
            Err(_) if kept => self.read_once(buf).ok()?,
            Err(_) => return None,
        };
        std::str::from_utf8(&buf[..len]).ok()
    }

    fn read_once(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        let result = self.open().and_then(|file| read_all_at(file, buf));
        match result {
            Ok(_) => self.reads += 1,
            Err(_) => self.file = None,
        }
        result
    }

    fn open(&mut self) -> std::io::Result<&File> {
        if self.file.is_none() {
            self.reads = 0;
        }
        match &mut self.file {
            Some(file) => Ok(file),
            slot => Ok(slot.insert(File::open(&self.path)?)),
        }
    }
}

/// Reads from offset 0 into `buf` (kept at its full length, grown as needed) and returns the
/// content's length. A short read is the end: these files are generated whole on each read.
fn read_all_at(file: &File, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    if buf.is_empty() {
        buf.resize(4096, 0);
    }
    let mut len = 0;
    loop {
        let n = file.read_at(&mut buf[len..], len as u64)?;
        len += n;
        if n == 0 || len < buf.len() || buf.len() >= MAX_LEN {
            return Ok(len);
        }
        buf.resize(buf.len() * 2, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_new_content_through_a_kept_descriptor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memory.current");
        std::fs::write(&path, "1\n").unwrap();
        let (mut f, mut buf) = (KeptFile::new(path.clone()), Vec::new());
        assert_eq!(f.read(&mut buf), Some("1\n"));
        std::fs::write(&path, "22\n").unwrap();
        assert_eq!(f.read(&mut buf), Some("22\n"));
        assert!(f.file.is_some(), "the descriptor is kept");
    }

    #[test]
    fn a_replaced_file_is_read_again_after_the_reopen_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cpu.stat");
        std::fs::write(&path, "old").unwrap();
        let (mut f, mut buf) = (KeptFile::new(path.clone()), Vec::new());
        assert_eq!(f.read(&mut buf), Some("old"));
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "new").unwrap();
        let seen: Vec<String> =
            (0..REOPEN_EVERY).map(|_| f.read(&mut buf).unwrap_or("gone").to_owned()).collect();
        assert_eq!(seen.last().map(String::as_str), Some("new"), "{seen:?}");
        std::fs::remove_file(&path).unwrap();
        let gone: Vec<Option<String>> =
            (0..=REOPEN_EVERY).map(|_| f.read(&mut buf).map(str::to_owned)).collect();
        assert_eq!(gone.last(), Some(&None), "a file gone for good reads as nothing");
    }

    #[test]
    fn large_and_odd_content_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memory.stat");
        let big = "x 1\n".repeat(5000);
        std::fs::write(&path, &big).unwrap();
        let (mut f, mut buf) = (KeptFile::new(path.clone()), Vec::new());
        assert_eq!(f.read(&mut buf).map(str::len), Some(big.len()));
        std::fs::write(&path, [0xff, 0xfe, b'\n']).unwrap();
        assert_eq!(f.read(&mut buf), None, "not UTF-8");
        std::fs::write(&path, "").unwrap();
        assert_eq!(f.read(&mut buf), Some(""));
        let mut missing = KeptFile::new(dir.path().join("nope"));
        assert_eq!(missing.read(&mut buf), None);
    }
}
