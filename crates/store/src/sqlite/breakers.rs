//! Shared breaker state in SQLite.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use rusqlite::{Connection, Row, TransactionBehavior, params};

use super::{StoreError, from_nanos, open, to_nanos};
use crate::breakers::{BreakerCommand, BreakerSnapshot, BreakerStateStore, BreakerStoreError, Owner};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS breakers (
    owner      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    pid        INTEGER NOT NULL,
    host       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    stats      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS breaker_commands (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    owner   TEXT NOT NULL,
    name    TEXT NOT NULL,
    command TEXT NOT NULL
);
";

/// A [`BreakerStateStore`] in a SQLite file, shared by the processes of one machine.
///
/// ```
/// use elf_resilience_store::{BreakerStateStore, SqliteBreakerStore};
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = SqliteBreakerStore::open(dir.path().join("breakers.db")).unwrap();
/// assert!(store.snapshots().unwrap().is_empty());
/// ```
#[derive(Debug)]
pub struct SqliteBreakerStore {
    conn: Mutex<Connection>,
}

impl SqliteBreakerStore {
    /// Opens (or creates) the store in the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(Self { conn: Mutex::new(open(path.as_ref(), SCHEMA)?) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn backend(e: rusqlite::Error) -> BreakerStoreError {
    BreakerStoreError::Backend(e.to_string())
}

fn ser(e: serde_json::Error) -> BreakerStoreError {
    BreakerStoreError::Serialization(e.to_string())
}

fn read_row(r: &Row<'_>) -> rusqlite::Result<(Owner, String, String, String, i64)> {
    let owner = Owner { id: r.get(0)?, pid: r.get(2)?, host: r.get(3)? };
    Ok((owner, r.get(1)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

impl BreakerStateStore for SqliteBreakerStore {
    fn publish(&self, owner_id: &str, snapshots: &[BreakerSnapshot]) -> Result<(), BreakerStoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        tx.execute("DELETE FROM breakers WHERE owner = ?1", [owner_id]).map_err(backend)?;
        for s in snapshots {
            let stats = serde_json::to_string(&s.stats).map_err(ser)?;
            tx.execute(
                "INSERT OR REPLACE INTO breakers (owner, name, pid, host, state, stats, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![owner_id, s.name, s.owner.pid, s.owner.host, s.state, stats, to_nanos(s.updated_at)],
            )
            .map_err(backend)?;
        }
        tx.commit().map_err(backend)
    }

    fn snapshots(&self) -> Result<Vec<BreakerSnapshot>, BreakerStoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT owner, name, pid, host, state, stats, updated_at FROM breakers ORDER BY name, owner",
            )
            .map_err(backend)?;
        let rows = stmt.query_map([], read_row).map_err(backend)?;
        rows.map(|row| {
            let (owner, name, state, stats, at) = row.map_err(backend)?;
            let stats = serde_json::from_str(&stats).map_err(ser)?;
            Ok(BreakerSnapshot { name, owner, state, stats, updated_at: from_nanos(at) })
        })
        .collect()
    }

    fn send_command(
        &self,
        owner_id: &str,
        name: &str,
        command: BreakerCommand,
    ) -> Result<(), BreakerStoreError> {
        self.conn()
            .execute(
                "INSERT INTO breaker_commands (owner, name, command) VALUES (?1, ?2, ?3)",
                params![owner_id, name, command.as_str()],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn take_commands(&self, owner_id: &str) -> Result<Vec<(String, BreakerCommand)>, BreakerStoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let taken: Vec<(String, String)> = {
            let mut stmt = tx
                .prepare_cached("SELECT name, command FROM breaker_commands WHERE owner = ?1 ORDER BY seq")
                .map_err(backend)?;
            let rows = stmt.query_map([owner_id], |r| Ok((r.get(0)?, r.get(1)?))).map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        tx.execute("DELETE FROM breaker_commands WHERE owner = ?1", [owner_id]).map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(taken.into_iter().filter_map(|(n, c)| Some((n, BreakerCommand::parse(&c)?))).collect())
    }

    fn remove_older_than(&self, cutoff: SystemTime) -> Result<usize, BreakerStoreError> {
        self.conn().execute("DELETE FROM breakers WHERE updated_at < ?1", [to_nanos(cutoff)]).map_err(backend)
    }
}
