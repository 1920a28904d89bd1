//! The durable request queue in SQLite.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use elf_resilience_core::{
    Context, EnqueueRequest, QueueCounts, QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::queue_schema::{SCHEMA, add_counts, add_missing_columns};
use super::{StoreError, from_nanos, open, to_nanos};

const COLUMNS: &str = "seq, handler, payload, context, status, attempts, max_attempts, \
                       enqueued_at, not_before, lease_until, last_error, result, \
                       expired_leases, max_expired_leases, released";

/// Tickets are the row's sequence number, which SQLite's AUTOINCREMENT never reuses.
const TICKET_PREFIX: &str = "sq-";

/// A [`RequestQueue`] in a SQLite file: survives restarts and crashes (every change is one
/// transaction), and can be shared by several processes on one machine.
///
/// ```
/// use elf_resilience_core::{EnqueueRequest, RequestQueue, TicketStatus};
/// use elf_resilience_store::SqliteQueue;
/// use std::time::{Duration, SystemTime};
///
/// let dir = tempfile::tempdir().unwrap();
/// let queue = SqliteQueue::open(dir.path().join("queue.db")).unwrap();
/// let now = SystemTime::now();
/// let ticket = queue.enqueue(EnqueueRequest::new("summarize", serde_json::json!({"doc": 7})), now).unwrap();
/// let leased = queue.lease(None, now, Duration::from_secs(30)).unwrap().unwrap();
/// queue.ack(&leased.ticket, None).unwrap();
/// assert_eq!(queue.status(&ticket).unwrap(), Some(TicketStatus::Done));
/// ```
#[derive(Debug)]
pub struct SqliteQueue {
    conn: Mutex<Connection>,
}

impl SqliteQueue {
    /// Opens (or creates) the queue in the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let mut conn = open(path.as_ref(), SCHEMA)?;
        let shown = path.as_ref().display().to_string();
        let sqlite = |source| StoreError::Sqlite { path: shown.clone(), source };
        add_missing_columns(&mut conn).map_err(sqlite)?;
        add_counts(&mut conn).map_err(sqlite)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in an immediate (write-locking) transaction and commits.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, QueueError>) -> Result<T, QueueError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }
}

fn backend(e: rusqlite::Error) -> QueueError {
    QueueError::Backend(e.to_string())
}

fn ser(e: serde_json::Error) -> QueueError {
    QueueError::Serialization(e.to_string())
}

fn ticket_of(seq: i64) -> Ticket {
    Ticket(format!("{TICKET_PREFIX}{seq}"))
}

fn seq_of(ticket: &Ticket) -> Option<i64> {
    ticket.0.strip_prefix(TICKET_PREFIX)?.parse().ok()
}

/// A row as read, before its JSON columns are decoded.
struct RawRow {
    seq: i64,
    handler: String,
    payload: String,
    context: String,
    status: String,
    attempts: u32,
    max_attempts: u32,
    /// Expired leases, expired leases allowed, releases.
    unspent: (u32, u32, u32),
    times: (i64, i64, Option<i64>),
    last_error: Option<String>,
    result: Option<String>,
}

impl RawRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: row.get(0)?,
            handler: row.get(1)?,
            payload: row.get(2)?,
            context: row.get(3)?,
            status: row.get(4)?,
            attempts: row.get(5)?,
            max_attempts: row.get(6)?,
            times: (row.get(7)?, row.get(8)?, row.get(9)?),
            last_error: row.get(10)?,
            result: row.get(11)?,
            unspent: (row.get(12)?, row.get(13)?, row.get(14)?),
        })
    }

    fn decode(&self) -> Result<QueuedRequest, QueueError> {
        let status = TicketStatus::parse(&self.status).ok_or_else(|| {
            QueueError::Backend(format!("unknown status `{}` in row {}", self.status, self.seq))
        })?;
        let context: Context = serde_json::from_str(&self.context).map_err(|e| undecodable("context", &e))?;
        Ok(QueuedRequest {
            ticket: ticket_of(self.seq),
            handler: self.handler.clone(),
            payload: serde_json::from_str(&self.payload).map_err(|e| undecodable("payload", &e))?,
            context,
            status,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            expired_leases: self.unspent.0,
            max_expired_leases: self.unspent.1,
            released: self.unspent.2,
            enqueued_at: from_nanos(self.times.0),
            not_before: from_nanos(self.times.1),
            lease_until: self.times.2.map(from_nanos),
            last_error: self.last_error.clone(),
            result: self
                .result
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| undecodable("result", &e))?,
        })
    }

    /// Decodes for listing: a row that does not decode is shown, not an error — its raw
    /// payload as a JSON string, an empty context, and why in `last_error`.
    fn decode_for_listing(self) -> QueuedRequest {
        let error = match self.decode() {
            Ok(req) => return req,
            Err(e) => e.to_string(),
        };
        QueuedRequest {
            ticket: ticket_of(self.seq),
            status: TicketStatus::parse(&self.status).unwrap_or(TicketStatus::DeadLettered),
            handler: self.handler,
            payload: serde_json::Value::String(self.payload),
            context: Context::default(),
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            expired_leases: self.unspent.0,
            max_expired_leases: self.unspent.1,
            released: self.unspent.2,
            enqueued_at: from_nanos(self.times.0),
            not_before: from_nanos(self.times.1),
            lease_until: self.times.2.map(from_nanos),
            last_error: Some(self.last_error.unwrap_or(error)),
            result: self.result.map(serde_json::Value::String),
        }
    }
}

/// What a backend error says, without the variant's prefix.
fn backend_text(error: &QueueError) -> String {
    match error {
        QueueError::Backend(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A stored column that no longer decodes (written by another version, or edited by hand).
fn undecodable(column: &str, e: &serde_json::Error) -> QueueError {
    QueueError::Backend(format!("stored {column} does not decode: {e}"))
}

fn select(conn: &Connection, seq: i64) -> Result<Option<RawRow>, QueueError> {
    let sql = format!("SELECT {COLUMNS} FROM queue WHERE seq = ?1");
    conn.query_row(&sql, [seq], RawRow::read).optional().map_err(backend)
}

fn load(conn: &Connection, seq: i64) -> Result<Option<QueuedRequest>, QueueError> {
    select(conn, seq)?.as_ref().map(RawRow::decode).transpose()
}

fn load_known(conn: &Connection, ticket: &Ticket) -> Result<QueuedRequest, QueueError> {
    let unknown = || QueueError::UnknownTicket(ticket.clone());
    let seq = seq_of(ticket).ok_or_else(unknown)?;
    load(conn, seq)?.ok_or_else(unknown)
}

/// Writes back the mutable columns of `req`.
fn store(conn: &Connection, req: &QueuedRequest) -> Result<(), QueueError> {
    let result = req.result.as_ref().map(serde_json::to_string).transpose().map_err(ser)?;
    conn.execute(
        "UPDATE queue SET status = ?2, attempts = ?3, not_before = ?4, lease_until = ?5, \
         last_error = ?6, result = ?7, expired_leases = ?8, released = ?9 WHERE seq = ?1",
        params![
            seq_of(&req.ticket),
            req.status.as_str(),
            req.attempts,
            to_nanos(req.not_before),
            req.lease_until.map(to_nanos),
            req.last_error,
            result,
            req.expired_leases,
            req.released,
        ],
    )
    .map_err(backend)?;
    Ok(())
}

/// The oldest ready request, by `seq`, as stored.
fn next_ready(conn: &Connection, handler: Option<&str>, now: i64) -> Result<Option<RawRow>, QueueError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM queue WHERE ((status = 'pending' AND not_before <= ?1) \
         OR (status = 'leased' AND lease_until <= ?1)) AND (?2 IS NULL OR handler = ?2) \
         ORDER BY seq LIMIT 1"
    );
    conn.query_row(&sql, params![now, handler], RawRow::read).optional().map_err(backend)
}

/// Dead-letters row `seq`, which does not decode, with the reason, so the rows behind it flow.
fn dead_letter_undecodable(conn: &Connection, seq: i64, error: &QueueError) -> Result<(), QueueError> {
    tracing::warn!(ticket = %ticket_of(seq), %error, "queue: stored request does not decode; dead-lettered");
    conn.execute(
        "UPDATE queue SET status = 'dead_lettered', lease_until = NULL, last_error = ?2 WHERE seq = ?1",
        params![seq, format!("undecodable: {}", backend_text(error))],
    )
    .map_err(backend)?;
    Ok(())
}

impl RequestQueue for SqliteQueue {
    fn enqueue(&self, req: EnqueueRequest, now: SystemTime) -> Result<Ticket, QueueError> {
        let payload = serde_json::to_string(&req.payload).map_err(ser)?;
        let context = serde_json::to_string(&req.context).map_err(ser)?;
        let t = to_nanos(now);
        self.write(|tx| {
            tx.execute(
                "INSERT INTO queue (handler, payload, context, status, attempts, max_attempts, \
                 enqueued_at, not_before, max_expired_leases) \
                 VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5, ?5, ?6)",
                params![
                    req.handler,
                    payload,
                    context,
                    req.max_attempts.max(1),
                    t,
                    req.max_expired_leases.max(1)
                ],
            )
            .map_err(backend)?;
            Ok(ticket_of(tx.last_insert_rowid()))
        })
    }

    fn lease(
        &self,
        handler: Option<&str>,
        now: SystemTime,
        lease_for: Duration,
    ) -> Result<Option<QueuedRequest>, QueueError> {
        self.write(|tx| {
            while let Some(raw) = next_ready(tx, handler, to_nanos(now))? {
                let mut req = match raw.decode() {
                    Ok(req) => req,
                    Err(e) => {
                        dead_letter_undecodable(tx, raw.seq, &e)?;
                        continue;
                    }
                };
                let granted = req.apply_lease(now, lease_for);
                store(tx, &req)?;
                if granted {
                    tracing::debug!(ticket = %req.ticket, attempts = req.attempts, "queue: leased");
                    return Ok(Some(req));
                }
                tracing::warn!(ticket = %req.ticket, expired = req.expired_leases, "queue: poison request dead-lettered");
            }
            Ok(None)
        })
    }

    fn ack(&self, ticket: &Ticket, result: Option<serde_json::Value>) -> Result<(), QueueError> {
        self.write(|tx| {
            let mut req = load_known(tx, ticket)?;
            req.apply_ack(result);
            store(tx, &req)
        })
    }

    fn nack(
        &self,
        ticket: &Ticket,
        error: &str,
        now: SystemTime,
        retry_in: Duration,
    ) -> Result<TicketStatus, QueueError> {
        self.write(|tx| {
            let mut req = load_known(tx, ticket)?;
            let status = req.apply_nack(error, now, retry_in);
            store(tx, &req)?;
            Ok(status)
        })
    }

    fn release(&self, ticket: &Ticket) -> Result<(), QueueError> {
        self.write(|tx| {
            let mut req = load_known(tx, ticket)?;
            req.apply_release();
            store(tx, &req)
        })
    }

    fn get(&self, ticket: &Ticket) -> Result<Option<QueuedRequest>, QueueError> {
        match seq_of(ticket) {
            Some(seq) => Ok(select(&self.conn(), seq)?.map(RawRow::decode_for_listing)),
            None => Ok(None),
        }
    }

    fn list(&self, status: Option<TicketStatus>, limit: usize) -> Result<Vec<QueuedRequest>, QueueError> {
        self.page(status, None, limit)
    }

    fn page(
        &self,
        status: Option<TicketStatus>,
        after: Option<&Ticket>,
        limit: usize,
    ) -> Result<Vec<QueuedRequest>, QueueError> {
        let after = match after {
            Some(t) => seq_of(t).ok_or_else(|| QueueError::UnknownTicket(t.clone()))?,
            None => 0,
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.conn();
        // Two statements, so each uses its index: `(status, seq)`, or the primary key.
        let rows = match status {
            Some(status) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM queue WHERE status = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
                );
                let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
                let rows =
                    stmt.query_map(params![status.as_str(), after, limit], RawRow::read).map_err(backend)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM queue WHERE seq > ?1 ORDER BY seq LIMIT ?2");
                let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
                let rows = stmt.query_map(params![after, limit], RawRow::read).map_err(backend)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            }
        };
        Ok(rows.map_err(backend)?.into_iter().map(RawRow::decode_for_listing).collect())
    }

    fn counts(&self) -> Result<QueueCounts, QueueError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT status, n FROM queue_counts").map_err(backend)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
            .map_err(backend)?;
        let mut counts = QueueCounts::default();
        for row in rows {
            let (status, n) = row.map_err(backend)?;
            if let Some(status) = TicketStatus::parse(&status) {
                counts.set(status, usize::try_from(n).unwrap_or(0));
            }
        }
        Ok(counts)
    }

    fn purge(&self, status: TicketStatus) -> Result<usize, QueueError> {
        self.write(|tx| tx.execute("DELETE FROM queue WHERE status = ?1", [status.as_str()]).map_err(backend))
    }
}

impl SqliteQueue {
    /// Deletes the request `ticket`, whatever its state; returns whether it was there. For an
    /// operator removing one request (one that no longer decodes, or is not wanted).
    pub fn remove(&self, ticket: &Ticket) -> Result<bool, QueueError> {
        let Some(seq) = seq_of(ticket) else { return Ok(false) };
        self.write(|tx| Ok(tx.execute("DELETE FROM queue WHERE seq = ?1", [seq]).map_err(backend)? > 0))
    }

    /// Makes the request `ticket` pending again with fresh attempts, ready at `now`; returns
    /// whether it was there. A request that no longer decodes is refused: remove it instead.
    pub fn requeue(&self, ticket: &Ticket, now: SystemTime) -> Result<bool, QueueError> {
        let Some(seq) = seq_of(ticket) else { return Ok(false) };
        self.write(|tx| {
            let Some(raw) = select(tx, seq)? else { return Ok(false) };
            raw.decode()?;
            tx.execute(
                "UPDATE queue SET status = 'pending', attempts = 0, expired_leases = 0, released = 0, \
                 not_before = ?2, lease_until = NULL WHERE seq = ?1",
                params![seq, to_nanos(now)],
            )
            .map_err(backend)?;
            Ok(true)
        })
    }

    /// Makes every dead-lettered request pending again with fresh attempts, ready at `now`;
    /// returns how many. For operators replaying after an outage.
    pub fn revive_dead_letters(&self, now: SystemTime) -> Result<usize, QueueError> {
        self.write(|tx| revive(tx, now))
    }

    /// Makes every waiting request ready at `now` and revives dead letters; returns how many
    /// requests changed.
    pub fn replay_all(&self, now: SystemTime) -> Result<usize, QueueError> {
        self.write(|tx| {
            let delayed = tx
                .execute(
                    "UPDATE queue SET not_before = ?1 WHERE status = 'pending' AND not_before > ?1",
                    [to_nanos(now)],
                )
                .map_err(backend)?;
            Ok(delayed + revive(tx, now)?)
        })
    }
}

fn revive(tx: &Connection, now: SystemTime) -> Result<usize, QueueError> {
    tx.execute(
        "UPDATE queue SET status = 'pending', attempts = 0, expired_leases = 0, released = 0, \
         not_before = ?1, lease_until = NULL WHERE status = 'dead_lettered'",
        [to_nanos(now)],
    )
    .map_err(backend)
}
