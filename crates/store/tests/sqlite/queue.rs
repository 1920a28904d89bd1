use std::time::{Duration, SystemTime};

use elf_resilience_core::{EnqueueRequest, RequestQueue, TicketStatus, queue_conformance};
use elf_resilience_store::SqliteQueue;
use serde_json::json;

#[test]
fn the_sqlite_queue_conforms() {
    let dir = tempfile::tempdir().unwrap();
    queue_conformance(&SqliteQueue::open(dir.path().join("q.db")).unwrap());
}

#[test]
fn requests_survive_a_reopen_with_their_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/q.db");
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let (a, b) = {
        let q = SqliteQueue::open(&path).unwrap();
        let a = q.enqueue(EnqueueRequest::new("h", json!({"n": 1})), now).unwrap();
        let b = q.enqueue(EnqueueRequest::new("h", json!({"n": 2})), now).unwrap();
        q.lease(None, now, Duration::from_secs(60)).unwrap().unwrap();
        (a, b)
    };
    let q = SqliteQueue::open(&path).unwrap();
    let leased = q.get(&a).unwrap().unwrap();
    assert_eq!((leased.status, leased.attempts), (TicketStatus::Leased, 1));
    assert_eq!(leased.lease_until, Some(now + Duration::from_secs(60)));
    assert_eq!(q.get(&b).unwrap().unwrap().payload, json!({"n": 2}));
    let next = q.lease(None, now, Duration::from_secs(60)).unwrap().unwrap();
    assert_eq!(next.ticket, b);
}

#[test]
fn dead_letters_can_be_revived() {
    let dir = tempfile::tempdir().unwrap();
    let q = SqliteQueue::open(dir.path().join("q.db")).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let t = q.enqueue(EnqueueRequest::new("h", json!(1)).max_attempts(1), now).unwrap();
    q.lease(None, now, Duration::from_secs(1)).unwrap().unwrap();
    assert_eq!(q.nack(&t, "down", now, Duration::ZERO).unwrap(), TicketStatus::DeadLettered);
    assert_eq!(q.revive_dead_letters(now).unwrap(), 1);
    let again = q.lease(None, now, Duration::from_secs(1)).unwrap().unwrap();
    assert_eq!((again.ticket, again.attempts), (t, 1));
}

#[test]
fn malformed_tickets_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let q = SqliteQueue::open(dir.path().join("q.db")).unwrap();
    assert_eq!(q.get(&"sq-notanumber".into()).unwrap(), None);
    assert_eq!(q.get(&"other-1".into()).unwrap(), None);
}

#[test]
fn a_row_that_does_not_decode_is_dead_lettered_and_the_rest_flow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let q = SqliteQueue::open(&path).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let tickets: Vec<_> =
        (0..20).map(|i| q.enqueue(EnqueueRequest::new("h", json!({ "i": i })), now).unwrap()).collect();
    let bad = &tickets[3];
    let seq: i64 = bad.0.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE queue SET context = '{\"tags\": 7' WHERE seq = ?1", [seq]).unwrap();
    raw.execute("UPDATE queue SET payload = 'not json' WHERE seq = ?1", [seq + 1]).unwrap();

    let listed = q.list(None, 100).unwrap();
    assert_eq!(listed.len(), 20, "listing shows every row, the broken ones too");
    let mut delivered = Vec::new();
    while let Some(req) = q.lease(Some("h"), now, Duration::from_secs(60)).unwrap() {
        q.ack(&req.ticket, None).unwrap();
        delivered.push(req.payload["i"].as_u64().unwrap());
    }
    assert_eq!(delivered.len(), 18, "{delivered:?}");
    for broken in [bad, &tickets[4]] {
        let req = q.get(broken).unwrap().unwrap();
        assert_eq!(req.status, TicketStatus::DeadLettered, "{broken}");
        let error = req.last_error.unwrap();
        assert!(error.starts_with("undecodable: stored "), "{error}");
    }
    assert_eq!(q.get(&tickets[4]).unwrap().unwrap().payload, json!("not json"), "kept as it was stored");
    assert_eq!(q.list(Some(TicketStatus::DeadLettered), 10).unwrap().len(), 2);

    assert!(q.requeue(bad, now).is_err(), "an undecodable request cannot be requeued");
    assert!(q.remove(bad).unwrap());
    assert!(!q.remove(bad).unwrap(), "gone");
    assert_eq!(q.get(bad).unwrap(), None);
    assert!(!q.requeue(&"sq-999".into(), now).unwrap());
}

#[test]
fn one_request_can_be_requeued_with_fresh_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let q = SqliteQueue::open(dir.path().join("q.db")).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let t = q.enqueue(EnqueueRequest::new("h", json!(1)).max_attempts(1), now).unwrap();
    let leased = q.lease(None, now, Duration::from_secs(1)).unwrap().unwrap();
    q.nack(&leased.ticket, "boom", now, Duration::from_secs(1)).unwrap();
    assert_eq!(q.get(&t).unwrap().unwrap().status, TicketStatus::DeadLettered);
    let later = now + Duration::from_secs(5);
    assert!(q.requeue(&t, later).unwrap());
    let again = q.get(&t).unwrap().unwrap();
    assert_eq!((again.status, again.attempts, again.not_before), (TicketStatus::Pending, 0, later));
    assert_eq!(q.lease(None, later, Duration::from_secs(1)).unwrap().unwrap().ticket, t);
}

/// The table as the first version wrote it, before expired leases and releases were counted.
const FIRST_SCHEMA: &str = "
CREATE TABLE queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, handler TEXT NOT NULL, payload TEXT NOT NULL,
    context TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, not_before INTEGER NOT NULL,
    lease_until INTEGER, last_error TEXT, result TEXT
);
";

#[test]
fn a_file_from_before_expired_leases_were_counted_opens_and_its_rows_flow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let old = rusqlite::Connection::open(&path).unwrap();
    old.execute_batch(FIRST_SCHEMA).unwrap();
    let ctx = serde_json::to_string(&elf_resilience_core::Context::new()).unwrap();
    old.execute(
        "INSERT INTO queue (handler, payload, context, status, attempts, max_attempts, enqueued_at, \
         not_before, lease_until) VALUES ('h', '{\"n\": 1}', ?1, 'leased', 2, 3, 0, 0, 1)",
        [ctx],
    )
    .unwrap();
    drop(old);
    let q = SqliteQueue::open(&path).unwrap();
    let t = "sq-1".into();
    let old = q.get(&t).unwrap().unwrap();
    assert_eq!((old.status, old.attempts, old.expired_leases, old.released), (TicketStatus::Leased, 2, 0, 0));
    assert_eq!(old.max_expired_leases, EnqueueRequest::DEFAULT_MAX_EXPIRED_LEASES);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
    let again =
        q.lease(None, now, Duration::from_secs(60)).unwrap().expect("the expired lease is redelivered");
    assert_eq!((again.attempts, again.expired_leases, again.failures()), (3, 1, 2));
    assert_eq!(q.nack(&t, "boom", now, Duration::ZERO).unwrap(), TicketStatus::Pending, "2 failed of 3");
    drop(q);
    SqliteQueue::open(&path).expect("a file that has the columns opens again");
}

/// A file written before the counts table existed gets it on open, counted from its rows, and
/// the counts follow changes from then on.
#[test]
fn a_file_without_counts_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    {
        let q = SqliteQueue::open(&path).unwrap();
        for n in 0..5 {
            q.enqueue(EnqueueRequest::new("h", json!(n)), now).unwrap();
        }
        let leased = q.lease(None, now, Duration::from_secs(60)).unwrap().unwrap();
        q.ack(&leased.ticket, None).unwrap();
    }
    let old = rusqlite::Connection::open(&path).unwrap();
    old.execute_batch(
        "DROP TRIGGER queue_counts_insert; DROP TRIGGER queue_counts_delete; \
         DROP TRIGGER queue_counts_update; DROP TABLE queue_counts; DROP INDEX queue_status_seq;",
    )
    .unwrap();
    drop(old);
    let q = SqliteQueue::open(&path).unwrap();
    let counts = q.counts().unwrap();
    assert_eq!((counts.pending, counts.done, counts.total()), (4, 1, 5));
    q.lease(None, now, Duration::from_secs(60)).unwrap().unwrap();
    q.purge(TicketStatus::Done).unwrap();
    let counts = q.counts().unwrap();
    assert_eq!((counts.pending, counts.leased, counts.done), (3, 1, 0));
    let page = q.page(Some(TicketStatus::Pending), None, 2).unwrap();
    assert_eq!(page.len(), 2);
}
