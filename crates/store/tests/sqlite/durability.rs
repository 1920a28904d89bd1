//! A child process is killed (SIGKILL) mid-enqueue and mid-replay; after a restart nothing is
//! lost, and the only duplicates are counted redeliveries.
//!
//! The child is this test binary itself, run with `ELF_QUEUE_CHILD` set and filtered down to
//! the `child` test, which is a no-op in the normal run.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use elf_resilience_core::{EnqueueRequest, RequestQueue, TicketStatus};
use elf_resilience_store::SqliteQueue;
use serde_json::json;

const MODE: &str = "ELF_QUEUE_CHILD";
const DB: &str = "ELF_QUEUE_CHILD_DB";
const LEASE: Duration = Duration::from_secs(600);

/// The child's body: enqueues or replays until killed.
#[test]
fn child() {
    let (Ok(mode), Ok(db)) = (std::env::var(MODE), std::env::var(DB)) else { return };
    let q = SqliteQueue::open(db).unwrap();
    match mode.as_str() {
        "enqueue" => {
            for i in 0..u64::MAX {
                q.enqueue(EnqueueRequest::new("work", json!({ "i": i })), SystemTime::now()).unwrap();
                println!("enqueued {i}");
            }
        }
        _ => loop {
            if let Some(r) = q.lease(Some("work"), SystemTime::now(), LEASE).unwrap() {
                println!("leased {}", r.payload["i"]);
                q.ack(&r.ticket, Some(json!("done by child"))).unwrap();
                println!("acked {}", r.payload["i"]);
            }
        },
    }
}

fn spawn(mode: &str, db: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "durability::child", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .env(DB, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Reads the child's lines until `stop` of them start with `prefix`, then kills it (SIGKILL).
fn run_and_kill(mut child: Child, prefix: &str, stop: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let out = BufReader::new(child.stdout.take().unwrap());
    for line in out.lines().map_while(Result::ok) {
        let done = line.starts_with(prefix)
            && lines.iter().filter(|l: &&String| l.starts_with(prefix)).count() + 1 >= stop;
        lines.push(line);
        if done {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    lines
}

fn numbers(lines: &[String], prefix: &str) -> Vec<u64> {
    lines.iter().filter_map(|l| l.strip_prefix(prefix)?.trim().parse().ok()).collect()
}

#[test]
fn nothing_is_lost_when_the_process_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.db");
    let confirmed = numbers(&run_and_kill(spawn("enqueue", &db), "enqueued", 300), "enqueued ");
    assert_eq!(confirmed.len(), 300);

    let q = SqliteQueue::open(&db).unwrap();
    let stored: Vec<u64> =
        q.list(None, usize::MAX).unwrap().iter().map(|r| r.payload["i"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (0..stored.len() as u64).collect();
    assert_eq!(stored, expected, "stored requests are exactly 0..n, in order, with no gap");
    assert!(stored.len() >= confirmed.len(), "every confirmed enqueue is stored");
    drop(q);

    let lines = run_and_kill(spawn("replay", &db), "acked", 120);
    let acked_by_child: BTreeSet<u64> = numbers(&lines, "acked ").into_iter().collect();
    assert_eq!(acked_by_child.len(), 120);

    // The restarted consumer: leases held by the dead child expire (we look from an hour on).
    let q = SqliteQueue::open(&db).unwrap();
    let later = SystemTime::now() + 2 * LEASE;
    let mut redelivered = 0;
    while let Some(r) = q.lease(Some("work"), later, LEASE).unwrap() {
        let i = r.payload["i"].as_u64().unwrap();
        assert!(!acked_by_child.contains(&i), "a request acked before the kill is never redelivered");
        redelivered += u32::from(r.attempts > 1);
        q.ack(&r.ticket, Some(json!("done after restart"))).unwrap();
    }
    let all = q.list(None, usize::MAX).unwrap();
    assert_eq!(all.len(), stored.len(), "no request lost");
    assert!(all.iter().all(|r| r.status == TicketStatus::Done), "every request delivered");
    let repeats = all.iter().filter(|r| r.attempts > 1).count() as u32;
    assert_eq!(repeats, redelivered, "duplicates only as counted redeliveries");
    assert!(repeats <= 1, "at most the request in flight at the kill is redelivered, got {repeats}");
}
