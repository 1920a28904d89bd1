//! The data directory's disk full: a 1 MiB tmpfs mounted as `data_dir` (root only; the test
//! says so and skips when the mount is refused), filled to the brim. Queue and ledger writes
//! fail saying the disk is full, `serve` keeps answering and `storage:sqlite` says why, writes
//! succeed again once space is freed, and the SQLite files pass `PRAGMA integrity_check`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use elf_resilience::{EnqueueRequest, HealthStatus, TimeRange, Usage, UsageFilter, UsageLedger};
use serde_json::json;

use crate::support::{check_until, config, get, livez_is_fast, reported, serve};

const CHECK: &str = "storage:sqlite";

/// A tmpfs of `size` mounted at `dir`, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self { dir: dir.to_owned() }),
            Ok(o) => {
                println!(
                    "skipping: mounting a tmpfs was refused: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                println!("skipping: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Writes `path` until the disk is full, in ever smaller chunks down to one byte.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    for chunk in [64 * 1024, 4096, 512, 1] {
        while f.write_all(&vec![0u8; chunk]).and_then(|()| f.sync_all()).is_ok() {}
    }
}

fn integrity(db: &Path) -> String {
    let out = Command::new("sqlite3").arg(db).arg("PRAGMA integrity_check;").output().expect("sqlite3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn usage(tokens: u64) -> Usage {
    Usage::new(tokens, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_clearly_keeps_serving_and_loses_nothing_once_freed() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let Some(_tmpfs) = Tmpfs::mount(&data, "1m") else { return };
    let (config, _) = config(work.path(), &data, "[health]\ndefault_checks = false\ninterval = \"1h\"\n");
    let running = serve(&config).await;
    let (queue, ledger) = (running.stores.queue.clone(), running.stores.ledger.clone());
    let enqueue = |n: usize| {
        queue.enqueue(
            EnqueueRequest::new("llm", json!({ "n": n, "pad": "x".repeat(2000) })),
            SystemTime::now(),
        )
    };
    let mut stored: Vec<_> = (0..3).map(|n| enqueue(n).unwrap()).collect();
    ledger.record("team", "gpt", usage(100), SystemTime::now()).unwrap();
    ledger.flush().unwrap();
    check_until(&running, CHECK, HealthStatus::Healthy).await;

    fill(&data.join("filler"));
    // SQLite may still fit a few rows in pages it has; the disk runs out soon after.
    let refused = (3..1000).find_map(|n| match enqueue(n) {
        Ok(t) => {
            stored.push(t);
            None
        }
        Err(e) => Some(e.to_string()),
    });
    let refused = refused.expect("an enqueue fails on a full disk");
    assert!(refused.contains("disk is full"), "{refused}");
    ledger.record("team", "gpt", usage(50), SystemTime::now()).unwrap();
    let unflushed = ledger.flush().expect_err("the ledger cannot write").to_string();
    assert!(unflushed.contains("disk is full"), "{unflushed}");

    let message = check_until(&running, CHECK, HealthStatus::Unhealthy).await;
    assert!(message.starts_with("disk full: ") && message.contains(&data.display().to_string()), "{message}");
    livez_is_fast(running.addr).await;
    let (code, health, _) = reported(running.addr, CHECK).await;
    assert_eq!(code, 503, "{health}");
    assert!(health.contains("disk full"), "{health}");
    let (code, listing) = get(running.addr, "/api/queue").await;
    assert_eq!((code, listing["counts"]["pending"].as_u64()), (200, Some(stored.len() as u64)), "{listing}");

    std::fs::remove_file(data.join("filler")).unwrap();
    check_until(&running, CHECK, HealthStatus::Healthy).await;
    stored.push(enqueue(10_000).expect("writes succeed once space is freed"));
    ledger.flush().expect("the pending usage is written once space is freed");
    let all = TimeRange { from: UNIX_EPOCH, to: SystemTime::now() + Duration::from_secs(3600) };
    let total = ledger.usage(UsageFilter::all(), all).unwrap();
    assert_eq!(total.tokens, 150, "the usage recorded while full was kept and written");
    running.shutdown().await.unwrap();

    for t in &stored {
        assert!(queue.get(t).unwrap().is_some(), "{t:?} was kept");
    }
    for db in ["queue.db", "usage.db", "breakers.db", "cache.db"] {
        assert_eq!(integrity(&data.join(db)), "ok", "{db}");
    }
}
