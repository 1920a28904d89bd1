//! The response cache in SQLite.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use elf_resilience_core::{CacheEntry, CacheError, CachedValue, ResponseCache, SharedClock};
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
///
/// Entries are deleted once no read could serve them any more (TTL plus
/// [`max_staleness`](Self::max_staleness)), and the oldest beyond
/// [`max_entries`](Self::max_entries): by [`evict`](Self::evict), on every N-th write
/// ([`evict_every`](Self::evict_every)) or by a background task
/// ([`spawn_evictor`](Self::spawn_evictor)).
///
/// ```
/// use elf_resilience_core::ResponseCache;
/// use elf_resilience_store::SqliteCache;
/// use std::time::{Duration, SystemTime};
///
/// let dir = tempfile::tempdir().unwrap();
/// let cache = SqliteCache::open(dir.path().join("cache.db"))
///     .unwrap()
///     .max_staleness(Duration::from_secs(60))
///     .max_entries(1000)
///     .evict_every(100);
/// let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
/// cache.put("a", serde_json::json!(1), t, Duration::from_secs(10)).unwrap();
/// assert_eq!(cache.evict(t + Duration::from_secs(69)).unwrap(), 0, "still servable as stale");
/// assert_eq!(cache.evict(t + Duration::from_secs(71)).unwrap(), 1);
/// ```
#[derive(Debug)]
pub struct SqliteCache {
    conn: Mutex<Connection>,
    max_staleness: Duration,
    max_entries: Option<usize>,
    evict_every: u32,
    writes: AtomicU32,
}

/// How long past its TTL an entry is kept by default: a day.
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(86_400);

impl SqliteCache {
    /// Opens (or creates) the cache in the file at `path`.
    ///
    /// # Default
    ///
    /// Entries kept [`DEFAULT_MAX_STALENESS`] (a day) past their TTL, no size bound, no
    /// eviction on write.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(Self {
            conn: Mutex::new(open(path.as_ref(), SCHEMA)?),
            max_staleness: DEFAULT_MAX_STALENESS,
            max_entries: None,
            evict_every: 0,
            writes: AtomicU32::new(0),
        })
    }

    /// How long past its TTL an entry may still be served stale, hence kept.
    pub fn max_staleness(mut self, d: Duration) -> Self {
        self.max_staleness = d;
        self
    }

    /// At most `n` entries: eviction deletes the oldest (by write time) beyond it.
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = Some(n);
        self
    }

    /// Evicts on every `n`-th write (0: never on write).
    pub fn evict_every(mut self, n: u32) -> Self {
        self.evict_every = n;
        self
    }

    /// Deletes the entries expired at `now` (TTL plus max staleness) and the oldest beyond
    /// `max_entries`; returns how many.
    pub fn evict(&self, now: SystemTime) -> Result<usize, CacheError> {
        let expired = self.evict_expired(now, self.max_staleness)?;
        let Some(max) = self.max_entries else { return Ok(expired) };
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let trimmed = self
            .conn()
            .execute(
                "DELETE FROM cache WHERE key IN \
                 (SELECT key FROM cache ORDER BY stored_at DESC, key LIMIT -1 OFFSET ?1)",
                [max],
            )
            .map_err(backend)?;
        Ok(expired + trimmed)
    }

    /// Runs [`evict`](Self::evict) every `interval` (on `clock`'s wall time) on the current
    /// tokio runtime, until the returned task is aborted.
    pub fn spawn_evictor(
        self: &Arc<Self>,
        clock: SharedClock,
        interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // On a blocking thread: a file another process holds waits out the busy timeout
                // there, not on an async worker. Awaited, so passes never overlap.
                let (cache, now) = (Arc::clone(&cache), clock.wall());
                match tokio::task::spawn_blocking(move || cache.evict(now)).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::debug!(evicted = n, "cache eviction"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "cache eviction failed"),
                    Err(e) => tracing::warn!(error = %e, "cache eviction panicked"),
                }
            }
        })
    }

    fn after_write(&self, now: SystemTime) -> Result<(), CacheError> {
        if self.evict_every == 0 {
            return Ok(());
        }
        let n = self.writes.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if n.is_multiple_of(self.evict_every) {
            self.evict(now)?;
        }
        Ok(())
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
        drop(stmt);
        drop(conn);
        self.after_write(now)
    }

    fn remove(&self, key: &str) -> Result<bool, CacheError> {
        Ok(self.conn().execute("DELETE FROM cache WHERE key = ?1", [key]).map_err(backend)? > 0)
    }
}
