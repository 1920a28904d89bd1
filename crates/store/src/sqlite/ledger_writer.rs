//! The ledger's writer thread: records arrive on a channel, are summed per (team, model,
//! minute) in memory, and are written in one transaction per batch.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use elf_resilience_core::SharedClock;
use elf_resilience_core::Usage;
use rusqlite::{Connection, params};

use super::to_nanos;

/// Records summed before a batch is written regardless of time.
const BATCH: usize = 50_000;
/// How long records may wait before they are written.
const LINGER: Duration = Duration::from_millis(200);
/// Minute buckets are kept this long; hours keep the rest.
pub(crate) const MINUTE_HORIZON: Duration = Duration::from_secs(25 * 3600);

/// A message to the writer.
pub(crate) enum Msg {
    /// Add usage at a second since the epoch.
    Record { team: Box<str>, model: Box<str>, usage: Usage, secs: u64 },
    /// Write everything pending, then answer.
    Flush(SyncSender<Result<(), String>>),
}

/// The writer's state.
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) clock: SharedClock,
    pub(crate) retention: Duration,
    pending: HashMap<(Box<str>, Box<str>, u64), Usage>,
    records: usize,
}

impl Writer {
    pub(crate) fn new(conn: Connection, clock: SharedClock, retention: Duration) -> Self {
        Self { conn, clock, retention, pending: HashMap::new(), records: 0 }
    }

    /// Runs until every sender is gone, then writes what is left.
    pub(crate) fn run(mut self, rx: Receiver<Msg>) {
        loop {
            match rx.recv_timeout(LINGER) {
                Ok(Msg::Record { team, model, usage, secs }) => self.add(team, model, usage, secs),
                Ok(Msg::Flush(reply)) => {
                    let _ = reply.send(self.write());
                }
                Err(RecvTimeoutError::Timeout) => self.write_logged(),
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if self.records >= BATCH {
                self.write_logged();
            }
        }
        self.write_logged();
    }

    fn add(&mut self, team: Box<str>, model: Box<str>, usage: Usage, secs: u64) {
        *self.pending.entry((team, model, secs / 60 * 60)).or_default() += usage;
        self.records += 1;
    }

    fn write_logged(&mut self) {
        if let Err(e) = self.write() {
            tracing::error!(error = %e, "usage ledger: batch write failed; will retry");
        }
    }

    /// Writes pending sums to the minute and hour tables and prunes old rows, in one transaction.
    fn write(&mut self) -> Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(|e| e.to_string())?;
        for ((team, model, minute), usage) in &self.pending {
            upsert(&tx, "usage_minute", team, model, *minute, *usage).map_err(|e| e.to_string())?;
            upsert(&tx, "usage_hour", team, model, minute / 3600 * 3600, *usage)
                .map_err(|e| e.to_string())?;
        }
        prune(&tx, self.clock.wall(), self.retention).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        tracing::debug!(records = self.records, rows = self.pending.len(), "usage ledger: batch written");
        metrics::counter!("elf_ledger_batches_total").increment(1);
        self.pending.clear();
        self.records = 0;
        Ok(())
    }
}

fn upsert(
    conn: &Connection,
    table: &str,
    team: &str,
    model: &str,
    bucket: u64,
    u: Usage,
) -> rusqlite::Result<()> {
    let sql = format!(
        "INSERT INTO {table} (team, model, bucket, tokens, requests) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (team, model, bucket) DO UPDATE SET tokens = tokens + excluded.tokens, \
         requests = requests + excluded.requests"
    );
    let (tokens, requests) =
        (i64::try_from(u.tokens).unwrap_or(i64::MAX), i64::try_from(u.requests).unwrap_or(i64::MAX));
    conn.prepare_cached(&sql)?.execute(params![team, model, bucket as i64, tokens, requests])?;
    Ok(())
}

/// Drops minute rows past the minute horizon and hour rows past the retention.
fn prune(conn: &Connection, now: std::time::SystemTime, retention: Duration) -> rusqlite::Result<()> {
    let secs = |d: Duration| to_nanos(now.checked_sub(d).unwrap_or(std::time::UNIX_EPOCH)) / 1_000_000_000;
    conn.prepare_cached("DELETE FROM usage_minute WHERE bucket < ?1")?.execute([secs(MINUTE_HORIZON)])?;
    conn.prepare_cached("DELETE FROM usage_hour WHERE bucket < ?1")?.execute([secs(retention)])?;
    Ok(())
}
