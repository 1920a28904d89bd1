//! The response cache in SQLite.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use elf_resilience_core::{CacheEntry, CacheError, CachedValue, ResponseCache};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, from_nanos, open, to_nanos};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cache (
    key         TEXT PRIMARY KEY,
    value       TEXT    NOT NULL,
    stored_at   INTEGER NOT NULL,
    fresh_until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cache_fresh_until ON cache (fresh_until);
";

/// A [`ResponseCache`] in a SQLite file: answers survive a restart, so a database outage
/// right after a deploy can still be served from cache.
///
/// ```
/// use elf_resilience_core::ResponseCache;
/// use elf_resilience_store::SqliteCache;
/// use std::time::{Duration, SystemTime};
///
/// let dir = tempfile::tempdir().unwrap();
/// let cache = SqliteCache::open(dir.path().join("cache.db")).unwrap();
/// let now = SystemTime::now();
/// cache.put("user:7", serde_json::json!({"name": "Ada"}), now, Duration::from_secs(60)).unwrap();
/// let hit = cache.get("user:7", now, Duration::ZERO).unwrap().unwrap();
/// assert!(!hit.stale);
/// ```
#[derive(Debug)]
pub struct SqliteCache {
    conn: Mutex<Connection>,
}

impl SqliteCache {
    /// Opens (or creates) the cache in the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(Self { conn: Mutex::new(open(path.as_ref(), SCHEMA)?) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Deletes entries that no read accepting `max_staleness` could still serve at `now`;
    /// returns how many.
    pub fn evict_expired(&self, now: SystemTime, max_staleness: Duration) -> Result<usize, CacheError> {
        let cutoff = to_nanos(now.checked_sub(max_staleness).unwrap_or(SystemTime::UNIX_EPOCH));
        self.conn().execute("DELETE FROM cache WHERE fresh_until < ?1", [cutoff]).map_err(backend)
    }
}

fn backend(e: rusqlite::Error) -> CacheError {
    CacheError::Backend(e.to_string())
}

impl ResponseCache for SqliteCache {
    fn get(
        &self,
        key: &str,
        now: SystemTime,
        max_staleness: Duration,
    ) -> Result<Option<CachedValue>, CacheError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT value, stored_at, fresh_until FROM cache WHERE key = ?1")
            .map_err(backend)?;
        let row = stmt
            .query_row([key], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))
            .optional()
            .map_err(backend)?;
        let Some((value, stored_at, fresh_until)) = row else { return Ok(None) };
        let value = serde_json::from_str(&value).map_err(|e| CacheError::Serialization(e.to_string()))?;
        let entry =
            CacheEntry { value, stored_at: from_nanos(stored_at), fresh_until: from_nanos(fresh_until) };
        Ok(entry.read(now, max_staleness))
    }

    fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let text = serde_json::to_string(&value).map_err(|e| CacheError::Serialization(e.to_string()))?;
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO cache (key, value, stored_at, fresh_until) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(backend)?;
        stmt.execute(params![key, text, to_nanos(now), to_nanos(now + ttl)]).map_err(backend)?;
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<bool, CacheError> {
        Ok(self.conn().execute("DELETE FROM cache WHERE key = ?1", [key]).map_err(backend)? > 0)
    }
}
