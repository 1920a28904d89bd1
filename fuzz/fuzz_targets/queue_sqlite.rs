//! A queue row as read back from a SQLite file someone else wrote (another version, a hand
//! edit): whatever its columns hold, listing, reading, leasing and purging neither panic nor
//! lose the row.
#![no_main]

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use elf_resilience_core::{RequestQueue, Ticket, TicketStatus};
use elf_resilience_fuzz::line;
use elf_resilience_store::SqliteQueue;
use libfuzzer_sys::fuzz_target;
use rusqlite::{Connection, params};

/// One row's columns, one a line: handler, payload, context, status, attempts, max_attempts,
/// enqueued_at, not_before, lease_until, last_error, result, then the time of the reads in Unix
/// seconds. A number that does not parse is 0; an empty optional column is NULL.
#[derive(Debug)]
struct Row<'a> {
    text: [&'a str; 11],
    now_secs: u32,
}

impl<'a> Row<'a> {
    fn read(input: &'a str) -> Self {
        Self { text: std::array::from_fn(|i| line(input, i)), now_secs: line(input, 11).parse().unwrap_or(0) }
    }

    fn int(&self, i: usize) -> i64 {
        self.text[i].trim().parse().unwrap_or(0)
    }

    fn optional(&self, i: usize) -> Option<&'a str> {
        Some(self.text[i]).filter(|t| !t.is_empty())
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    queue: SqliteQueue,
    raw: Mutex<Connection>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // In memory where the machine has a tmpfs: every change is a synced transaction.
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
        let dir = dir.expect("a temp dir");
        let path = dir.path().join("queue.db");
        let queue = SqliteQueue::open(&path).expect("the queue opens");
        let raw = Mutex::new(Connection::open(&path).expect("a second connection"));
        Fixture { _dir: dir, queue, raw }
    })
}

fn insert(conn: &Connection, row: &Row<'_>) -> i64 {
    conn.execute("DELETE FROM queue", []).expect("delete");
    conn.execute(
        "INSERT INTO queue (handler, payload, context, status, attempts, max_attempts, enqueued_at, \
         not_before, lease_until, last_error, result) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            row.text[0],
            row.text[1],
            row.text[2],
            row.text[3],
            row.int(4),
            row.int(5),
            row.int(6),
            row.int(7),
            row.optional(8).map(|_| row.int(8)),
            row.optional(9),
            row.optional(10)
        ],
    )
    .expect("insert");
    conn.last_insert_rowid()
}

fuzz_target!(|input: &str| {
    let row = Row::read(input);
    let f = fixture();
    let seq = insert(&f.raw.lock().unwrap(), &row);
    let q = &f.queue;
    let ticket = Ticket(format!("sq-{seq}"));
    let now = UNIX_EPOCH + Duration::from_secs(u64::from(row.now_secs));
    let listed = q.list(None, 10);
    if let Ok(listed) = &listed {
        assert_eq!(listed.len(), 1, "the row is listed, decodable or not: {row:?}");
    }
    let _ = q.get(&ticket);
    let _ = q.status(&ticket);
    if let Ok(Some(leased)) = q.lease(None, now, Duration::from_secs(30)) {
        let _ = q.nack(&leased.ticket, "fuzz", now, Duration::from_secs(1));
        let _ = q.ack(&leased.ticket, Some(serde_json::Value::Null));
    }
    assert!(q.list(None, 10).is_ok_and(|l| l.len() == 1) || listed.is_err(), "the row vanished: {row:?}");
    for status in
        [TicketStatus::Pending, TicketStatus::Leased, TicketStatus::Done, TicketStatus::DeadLettered]
    {
        let _ = q.list(Some(status), 10);
        let _ = q.purge(status);
    }
});
