//! The usage ledger in SQLite: batched writes, per-minute and hourly rollups, retention.

use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use elf_resilience_core::{
    LedgerError, LedgerTotal, Rollup, SharedClock, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger,
};
use rusqlite::{Connection, params};

use super::ledger_writer::{Msg, Writer};
use super::{StoreError, open};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS usage_minute (
    team TEXT NOT NULL, model TEXT NOT NULL, bucket INTEGER NOT NULL,
    tokens INTEGER NOT NULL, requests INTEGER NOT NULL,
    PRIMARY KEY (team, model, bucket)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_minute_bucket ON usage_minute (bucket);
CREATE TABLE IF NOT EXISTS usage_hour (
    team TEXT NOT NULL, model TEXT NOT NULL, bucket INTEGER NOT NULL,
    tokens INTEGER NOT NULL, requests INTEGER NOT NULL,
    PRIMARY KEY (team, model, bucket)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_hour_bucket ON usage_hour (bucket);
CREATE INDEX IF NOT EXISTS usage_minute_model ON usage_minute (model, bucket);
CREATE INDEX IF NOT EXISTS usage_hour_model ON usage_hour (model, bucket);
";

/// Queries starting within this of now are answered from minute buckets; older ones from hours.
const MINUTE_QUERIES: Duration = Duration::from_secs(24 * 3600);
/// Records waiting for the writer before `record` blocks.
const CHANNEL: usize = 65_536;

/// A [`UsageLedger`] in a SQLite file. `record` hands the record to a writer thread, which
/// sums records per minute and writes them in batches (one transaction per batch); `flush`
/// waits until everything recorded is written. Minute buckets are kept 25 hours, hourly
/// rollups for the retention period. History survives a restart.
///
/// ```
/// use elf_resilience_core::SystemClock;
/// use elf_resilience_core::{TimeRange, Usage, UsageFilter, UsageLedger};
/// use elf_resilience_store::SqliteLedger;
/// use std::time::{Duration, SystemTime};
///
/// let dir = tempfile::tempdir().unwrap();
/// let ledger = SqliteLedger::open(dir.path().join("usage.db"), SystemClock::shared(), Duration::from_secs(30 * 86400)).unwrap();
/// let now = SystemTime::now();
/// ledger.record("sales", "gpt-4", Usage::new(1200, 1), now).unwrap();
/// ledger.flush().unwrap();
/// let hour = TimeRange::last(Duration::from_secs(3600), now + Duration::from_secs(1));
/// assert_eq!(ledger.usage(UsageFilter::all(), hour).unwrap(), Usage::new(1200, 1));
/// ```
#[derive(Debug)]
pub struct SqliteLedger {
    tx: Mutex<Option<SyncSender<Msg>>>,
    reader: Mutex<Connection>,
    clock: SharedClock,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteLedger {
    /// Opens (or creates) the ledger at `path`; `clock` decides what is old, `retention` how
    /// long hourly rollups are kept.
    pub fn open(path: impl AsRef<Path>, clock: SharedClock, retention: Duration) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let writer = Writer::new(open(path, SCHEMA)?, clock.clone(), retention);
        let reader = open(path, "")?;
        let (tx, rx) = sync_channel(CHANNEL);
        let handle = std::thread::Builder::new()
            .name("elf-ledger-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|source| StoreError::Io { path: path.display().to_string(), source })?;
        Ok(Self {
            tx: Mutex::new(Some(tx)),
            reader: Mutex::new(reader),
            clock,
            writer: Mutex::new(Some(handle)),
        })
    }

    fn sender(&self) -> Result<SyncSender<Msg>, LedgerError> {
        lock(&self.tx).clone().ok_or(LedgerError::Closed)
    }

    /// Writes everything pending and stops the writer thread; later records fail with `Closed`.
    pub fn close(&self) -> Result<(), LedgerError> {
        let flushed = self.flush();
        drop(lock(&self.tx).take());
        if let Some(h) = lock(&self.writer).take() {
            let _ = h.join();
        }
        flushed
    }

    /// The table and bucket bounds that answer `range` without narrowing it.
    fn resolve(&self, range: TimeRange, step: Option<Rollup>) -> (&'static str, i64, i64) {
        let recent = range.from >= self.clock.wall().checked_sub(MINUTE_QUERIES).unwrap_or(UNIX_EPOCH);
        let hourly = step.map_or(!recent, |s| s == Rollup::Hour);
        let (table, width) = if hourly { ("usage_hour", 3600) } else { ("usage_minute", 60) };
        let from = secs(range.from, false) / width * width;
        let to = secs(range.to, true).div_ceil(width) * width;
        (table, from as i64, to as i64)
    }
}

impl Drop for SqliteLedger {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn secs(t: SystemTime, ceil: bool) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() + u64::from(ceil && d.subsec_nanos() > 0))
}

fn storage(e: rusqlite::Error) -> LedgerError {
    LedgerError::Storage(Box::new(e))
}

fn usage_of(tokens: i64, requests: i64) -> Usage {
    Usage::new(u64::try_from(tokens).unwrap_or(0), u64::try_from(requests).unwrap_or(0))
}

/// The condition for a filter, one per shape, so each reads its index: `(team, model, bucket)`
/// (the key) for a team, `(model, bucket)` for a model alone, `(bucket)` for everything. One
/// condition with `?3 IS NULL OR team = ?3` would read every row in the time range instead
/// (100 team and model pairs over 30 days: 7 million rows for `report --hours 720`).
fn filter_sql(filter: UsageFilter<'_>) -> &'static str {
    match (filter.team.is_some(), filter.model.is_some()) {
        (true, true) => "team = ?3 AND model = ?4 AND bucket >= ?1 AND bucket < ?2",
        (true, false) => "team = ?3 AND ?4 IS NULL AND bucket >= ?1 AND bucket < ?2",
        (false, true) => "model = ?4 AND ?3 IS NULL AND bucket >= ?1 AND bucket < ?2",
        (false, false) => "?3 IS NULL AND ?4 IS NULL AND bucket >= ?1 AND bucket < ?2",
    }
}

impl UsageLedger for SqliteLedger {
    fn record(&self, team: &str, model: &str, usage: Usage, at: SystemTime) -> Result<(), LedgerError> {
        if usage.is_zero() {
            return Ok(());
        }
        let msg = Msg::Record { team: team.into(), model: model.into(), usage, secs: secs(at, false) };
        self.sender()?.send(msg).map_err(|_| LedgerError::Closed)
    }

    fn usage(&self, filter: UsageFilter<'_>, range: TimeRange) -> Result<Usage, LedgerError> {
        let (table, from, to) = self.resolve(range, None);
        let sql = format!(
            "SELECT COALESCE(SUM(tokens), 0), COALESCE(SUM(requests), 0) FROM {table} WHERE {}",
            filter_sql(filter)
        );
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(&sql).map_err(storage)?;
        stmt.query_row(params![from, to, filter.team, filter.model], |r| Ok(usage_of(r.get(0)?, r.get(1)?)))
            .map_err(storage)
    }

    fn totals(&self, range: TimeRange) -> Result<Vec<LedgerTotal>, LedgerError> {
        let (table, from, to) = self.resolve(range, None);
        let sql = format!(
            "SELECT team, model, SUM(tokens), SUM(requests) FROM {table} WHERE {} \
             GROUP BY team, model HAVING SUM(tokens) > 0 OR SUM(requests) > 0 ORDER BY team, model",
            filter_sql(UsageFilter::all())
        );
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(&sql).map_err(storage)?;
        let rows = stmt
            .query_map(params![from, to, None::<&str>, None::<&str>], |r| {
                Ok(LedgerTotal { team: r.get(0)?, model: r.get(1)?, usage: usage_of(r.get(2)?, r.get(3)?) })
            })
            .map_err(storage)?;
        rows.collect::<Result<_, _>>().map_err(storage)
    }

    fn rollup(
        &self,
        filter: UsageFilter<'_>,
        range: TimeRange,
        step: Rollup,
    ) -> Result<Vec<UsageBucket>, LedgerError> {
        let (table, from, to) = self.resolve(range, Some(step));
        let sql = format!(
            "SELECT bucket, SUM(tokens), SUM(requests) FROM {table} WHERE {} \
             GROUP BY bucket HAVING SUM(tokens) > 0 OR SUM(requests) > 0 ORDER BY bucket",
            filter_sql(filter)
        );
        let conn = lock(&self.reader);
        let mut stmt = conn.prepare_cached(&sql).map_err(storage)?;
        let rows = stmt
            .query_map(params![from, to, filter.team, filter.model], |r| {
                let start = UNIX_EPOCH + Duration::from_secs(u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0));
                Ok(UsageBucket { start, usage: usage_of(r.get(1)?, r.get(2)?) })
            })
            .map_err(storage)?;
        rows.collect::<Result<_, _>>().map_err(storage)
    }

    fn flush(&self) -> Result<(), LedgerError> {
        let (reply, answer) = sync_channel(1);
        self.sender()?.send(Msg::Flush(reply)).map_err(|_| LedgerError::Closed)?;
        let written = answer.recv().map_err(|_| LedgerError::Closed)?;
        written.map_err(|e| LedgerError::Storage(e.into()))
    }
}
