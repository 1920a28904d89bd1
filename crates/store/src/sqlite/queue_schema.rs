//! The queue's tables in SQLite and their migrations: columns and the counts table a file from an
//! older version lacks are added when it is opened.

use rusqlite::{Connection, TransactionBehavior};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    handler      TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    context      TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    enqueued_at  INTEGER NOT NULL,
    not_before   INTEGER NOT NULL,
    lease_until  INTEGER,
    last_error   TEXT,
    result       TEXT,
    expired_leases     INTEGER NOT NULL DEFAULT 0,
    max_expired_leases INTEGER NOT NULL DEFAULT 10,
    released           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS queue_ready ON queue (status, not_before);
CREATE INDEX IF NOT EXISTS queue_status_seq ON queue (status, seq);
";

/// The count of requests per status, kept by triggers on every insert, delete and status
/// change, so counting reads four rows instead of the index (which takes ~100 ms at 1,000,000
/// rows). Created, and filled from the rows, when a file without it is opened.
const COUNTS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS queue_counts_insert AFTER INSERT ON queue BEGIN
    INSERT INTO queue_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS queue_counts_delete AFTER DELETE ON queue BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE status = OLD.status;
END;
CREATE TRIGGER IF NOT EXISTS queue_counts_update AFTER UPDATE OF status ON queue
WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO queue_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
";

/// Columns added since the first schema, with their definitions: a file written before them
/// gets them on open, its rows with the defaults (no lease expired or released so far).
const ADDED_COLUMNS: [(&str, &str); 3] = [
    ("expired_leases", "INTEGER NOT NULL DEFAULT 0"),
    ("max_expired_leases", "INTEGER NOT NULL DEFAULT 10"),
    ("released", "INTEGER NOT NULL DEFAULT 0"),
];

/// Adds the [`ADDED_COLUMNS`] a file from an older version lacks.
pub(super) fn add_missing_columns(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let present: Vec<String> = tx
        .prepare("SELECT name FROM pragma_table_info('queue')")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for (name, definition) in ADDED_COLUMNS.iter().filter(|(n, _)| !present.iter().any(|p| p == n)) {
        tracing::info!(column = name, "queue: adding a column to a file from an older version");
        tx.execute_batch(&format!("ALTER TABLE queue ADD COLUMN {name} {definition}"))?;
    }
    tx.commit()
}

/// Adds the counts table and its triggers to a file that has none, counting the rows once, in
/// one transaction (so a second process opening the file meanwhile waits, then finds it done).
pub(super) fn add_counts(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let present: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'queue_counts')",
        [],
        |row| row.get(0),
    )?;
    if !present {
        tx.execute_batch(COUNTS_SCHEMA)?;
        let n =
            tx.execute("INSERT INTO queue_counts SELECT status, COUNT(*) FROM queue GROUP BY status", [])?;
        tracing::debug!(statuses = n, "queue: counts table added");
    }
    tx.commit()
}
