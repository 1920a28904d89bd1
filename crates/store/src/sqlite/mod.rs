//! SQLite backends: WAL journal, busy timeout, one connection per store.

mod breakers;
mod cache;
mod ledger;
mod ledger_writer;
mod queue;
mod queue_schema;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// Opens `path` (creating its directory, and the file readable by its owner only) in WAL mode
/// with a busy timeout, and runs `schema`. Many processes may open one fresh file at once: a
/// set-up step that finds the file locked is tried again until the busy timeout.
pub(crate) fn open(path: &Path, schema: &str) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::Io { path: dir.display().to_string(), source })?;
    }
    create_private(path).map_err(|source| StoreError::Io { path: shown.clone(), source })?;
    let setup = |conn: &Connection| -> rusqlite::Result<()> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(schema)
    };
    let conn = Connection::open(path).map_err(|source| StoreError::Sqlite { path: shown.clone(), source })?;
    retry_while_busy(|| setup(&conn)).map_err(|source| StoreError::Sqlite { path: shown, source })?;
    Ok(conn)
}

/// Creates `path` empty with mode 0600 when it does not exist; SQLite gives its WAL and
/// shared-memory files the same mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

/// Runs `step` again while SQLite answers busy or locked, for up to [`BUSY_TIMEOUT`]: switching
/// to WAL and creating tables take locks the busy handler does not always wait for.
fn retry_while_busy<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        match step() {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            done => return done,
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Nanoseconds since the Unix epoch, as SQLite stores instants (0 before the epoch).
pub(crate) fn to_nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The instant `nanos` after the Unix epoch.
pub(crate) fn from_nanos(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}
