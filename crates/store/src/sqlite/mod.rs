//! SQLite backends: WAL journal, busy timeout, one connection per store.

mod breakers;
mod cache;
mod ledger;
mod ledger_writer;
mod queue;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

pub use breakers::SqliteBreakerStore;
pub use cache::{DEFAULT_MAX_STALENESS, SqliteCache};
pub use ledger::SqliteLedger;
pub use queue::SqliteQueue;

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused to open or set up the file.
    #[error("sqlite store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The directory for the file could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// Opens `path` (creating its directory) in WAL mode with a busy timeout, and runs `schema`.
pub(crate) fn open(path: &Path, schema: &str) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::Io { path: dir.display().to_string(), source })?;
    }
    let setup = |conn: &Connection| -> rusqlite::Result<()> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(schema)
    };
    let conn = Connection::open(path).map_err(|source| StoreError::Sqlite { path: shown.clone(), source })?;
    setup(&conn).map_err(|source| StoreError::Sqlite { path: shown, source })?;
    Ok(conn)
}

/// Nanoseconds since the Unix epoch, as SQLite stores instants (0 before the epoch).
pub(crate) fn to_nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The instant `nanos` after the Unix epoch.
pub(crate) fn from_nanos(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}
