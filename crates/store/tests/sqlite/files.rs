//! The database files themselves: readable by their owner only, and safe to create from many
//! connections at once on a fresh directory.

use std::path::Path;
use std::process::{Command, Stdio};

use elf_resilience_core::{EnqueueRequest, RequestQueue, SystemClock};
use elf_resilience_store::{SqliteBreakerStore, SqliteCache, SqliteLedger, SqliteQueue};
use serde_json::json;

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn database_files_are_private_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.db");
    let queue = SqliteQueue::open(&db).unwrap();
    queue.enqueue(EnqueueRequest::new("h", json!(1)), std::time::SystemTime::now()).unwrap();
    SqliteCache::open(dir.path().join("cache.db")).unwrap();
    SqliteBreakerStore::open(dir.path().join("breakers.db")).unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 4, "the databases and the queue's WAL file: {seen} files");
}

const CHILD: &str = "ELF_OPEN_CHILD_DB";
const GO: &str = "ELF_OPEN_CHILD_GO";

/// The child's body: waits for the go file, then opens the queue and enqueues once.
#[test]
fn open_child() {
    let (Ok(db), Ok(go)) = (std::env::var(CHILD), std::env::var(GO)) else { return };
    while !Path::new(&go).exists() {
        std::thread::yield_now();
    }
    let dir = Path::new(&db).parent().unwrap();
    let queue = SqliteQueue::open(&db).unwrap_or_else(|e| panic!("open: {e}"));
    SqliteCache::open(dir.join("cache.db")).unwrap_or_else(|e| panic!("open: {e}"));
    SqliteBreakerStore::open(dir.join("breakers.db")).unwrap_or_else(|e| panic!("open: {e}"));
    let day = std::time::Duration::from_secs(86_400);
    SqliteLedger::open(dir.join("usage.db"), SystemClock::shared(), day)
        .unwrap_or_else(|e| panic!("open: {e}"));
    queue.enqueue(EnqueueRequest::new("h", json!(1)), std::time::SystemTime::now()).unwrap();
}

#[test]
fn many_processes_create_one_fresh_database_together() {
    const OPENERS: usize = 8;
    let exe = std::env::current_exe().unwrap();
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let (db, go) = (dir.path().join("data").join("queue.db"), dir.path().join("go"));
        let children: Vec<_> = (0..OPENERS)
            .map(|_| {
                Command::new(&exe)
                    .args(["--exact", "files::open_child", "--nocapture", "--test-threads=1"])
                    .env(CHILD, &db)
                    .env(GO, &go)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::fs::write(&go, b"").unwrap();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "round {round}: {stderr}");
        }
        let queue = SqliteQueue::open(&db).unwrap();
        assert_eq!(queue.list(None, 100).unwrap().len(), OPENERS, "round {round}");
    }
}
