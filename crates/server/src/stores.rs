//! Where state is kept: SQLite files in the data directory, or, with `[storage] redis_url`
//! (feature `redis`), the queue, the cache and the shared breaker state in Redis. The usage
//! ledger stays in SQLite either way.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use elf_resilience::{
    BreakerStateStore, DEFAULT_MAX_STALENESS, InMemoryLedger, QueueError, RequestQueue, ResponseCache,
    SqliteBreakerStore, SqliteCache, SqliteLedger, SqliteQueue, SystemClock, Ticket, UsageLedger,
};

use crate::config::Config;

/// Default retention of usage history.
const RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// The backend of the queue, cache and breaker store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files in the data directory.
    Sqlite,
    /// Redis at `[storage] redis_url`.
    Redis,
}

/// The stores the commands and the server work on.
#[derive(Debug, Clone)]
pub struct Stores {
    /// The data directory (the ledger, the token, and the SQLite stores when used).
    pub dir: PathBuf,
    /// Where the queue, cache and breakers are.
    pub backend: Backend,
    /// The request queue (`queue.db`, or `PREFIX:queue:*` in Redis).
    pub queue: Arc<dyn RequestQueue>,
    /// The usage ledger (`usage.db`).
    pub ledger: Arc<SqliteLedger>,
    /// The response cache (`cache.db`, or `PREFIX:cache:*` in Redis).
    pub cache: Arc<dyn ResponseCache>,
    /// The SQLite cache, which `serve` evicts on a timer; Redis expires its keys itself.
    pub evictable: Option<Arc<SqliteCache>>,
    /// Every process's breakers (`breakers.db`, or `PREFIX:breakers:*` in Redis).
    pub breakers: Arc<dyn BreakerStateStore>,
    replayable: Replayable,
}

/// The queue with its backend's own operations beside the trait's.
#[derive(Debug, Clone)]
enum Replayable {
    Sqlite(Arc<SqliteQueue>),
    #[cfg(feature = "redis")]
    Redis(Arc<elf_resilience::RedisQueue>),
}

impl Stores {
    /// Opens (creating) the configured stores; with a `redis_url`, connects to Redis first so
    /// an unreachable server fails before anything is written.
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        match &config.storage.redis_url {
            Some(url) => open_redis(config, url),
            None => open_sqlite(config),
        }
    }

    /// Makes every waiting request ready at `now` and revives dead letters; returns how many
    /// requests changed.
    pub fn replay_all(&self, now: SystemTime) -> Result<usize, QueueError> {
        match &self.replayable {
            Replayable::Sqlite(q) => q.replay_all(now),
            #[cfg(feature = "redis")]
            Replayable::Redis(q) => q.replay_all(now),
        }
    }

    /// Deletes one request; whether it was there.
    pub fn remove(&self, ticket: &Ticket) -> Result<bool, QueueError> {
        match &self.replayable {
            Replayable::Sqlite(q) => q.remove(ticket),
            #[cfg(feature = "redis")]
            Replayable::Redis(q) => q.remove(ticket),
        }
    }

    /// Makes one request pending again with fresh attempts, ready at `now`; whether it was there.
    pub fn requeue(&self, ticket: &Ticket, now: SystemTime) -> Result<bool, QueueError> {
        match &self.replayable {
            Replayable::Sqlite(q) => q.requeue(ticket, now),
            #[cfg(feature = "redis")]
            Replayable::Redis(q) => q.requeue(ticket, now),
        }
    }
}

fn open_sqlite(config: &Config) -> anyhow::Result<Stores> {
    let dir = config.storage.data_dir();
    let cache = Arc::new(sqlite_cache(config, &dir)?);
    let queue = Arc::new(SqliteQueue::open(dir.join("queue.db"))?);
    Ok(Stores {
        backend: Backend::Sqlite,
        replayable: Replayable::Sqlite(queue.clone()),
        queue,
        ledger: ledger(config, &dir)?,
        cache: cache.clone(),
        evictable: Some(cache),
        breakers: Arc::new(SqliteBreakerStore::open(dir.join("breakers.db"))?),
        dir,
    })
}

/// The usage ledger alone (`status`, `health` and `report` need nothing else, so they work
/// while Redis is down).
pub fn open_ledger(config: &Config) -> anyhow::Result<Arc<SqliteLedger>> {
    ledger(config, &config.storage.data_dir())
}

/// The usage ledger for a command that must write nothing (`health`, a Kubernetes exec probe
/// on a read-only filesystem): the SQLite ledger if its file already exists and opens, else
/// an empty in-memory one. Never creates the data directory.
pub fn existing_ledger(config: &Config) -> Arc<dyn UsageLedger> {
    let dir = config.storage.data_dir();
    if dir.join("usage.db").exists() {
        match ledger(config, &dir) {
            Ok(ledger) => return ledger,
            Err(e) => tracing::warn!(error = %e, "usage ledger unreadable; quota checks see no usage"),
        }
    }
    Arc::new(InMemoryLedger::new())
}

fn ledger(config: &Config, dir: &Path) -> anyhow::Result<Arc<SqliteLedger>> {
    let retention = config.storage.retention.map_or(RETENTION, |d| d.0);
    Ok(Arc::new(SqliteLedger::open(dir.join("usage.db"), SystemClock::shared(), retention)?))
}

/// The cache with the configured staleness and size bound.
fn sqlite_cache(config: &Config, dir: &Path) -> anyhow::Result<SqliteCache> {
    let s = &config.storage;
    let mut cache = SqliteCache::open(dir.join("cache.db"))?.max_staleness(max_staleness(config));
    if let Some(n) = s.cache_max_entries {
        cache = cache.max_entries(n);
    }
    Ok(cache)
}

fn max_staleness(config: &Config) -> Duration {
    config.storage.cache_max_staleness.map_or(DEFAULT_MAX_STALENESS, |d| d.0)
}

#[cfg(feature = "redis")]
fn open_redis(config: &Config, url: &crate::config::RedisUrl) -> anyhow::Result<Stores> {
    use elf_resilience::{RedisBreakerStore, RedisCache, RedisQueue, RedisStoreError};

    let prefix = config.storage.redis_prefix();
    let raw = url.0.expose();
    // The error's own text only: its sources repeat it.
    let cannot = |e: RedisStoreError| {
        anyhow::anyhow!("cannot connect to Redis at {} (`[storage] redis_url`): {e}", url.0)
    };
    let queue = Arc::new(RedisQueue::open(raw, &format!("{prefix}:queue")).map_err(cannot)?);
    let cache = RedisCache::open(raw, &format!("{prefix}:cache"), max_staleness(config)).map_err(cannot)?;
    let breakers = RedisBreakerStore::open(raw, &format!("{prefix}:breakers")).map_err(cannot)?;
    let dir = config.storage.data_dir();
    Ok(Stores {
        backend: Backend::Redis,
        replayable: Replayable::Redis(queue.clone()),
        queue: Arc::new(crate::offload::Offloaded(queue)),
        ledger: ledger(config, &dir)?,
        cache: Arc::new(cache),
        evictable: None,
        breakers: Arc::new(breakers),
        dir,
    })
}

/// Unreachable in practice: the config check rejects a `redis_url` without the feature.
#[cfg(not(feature = "redis"))]
fn open_redis(_: &Config, _: &crate::config::RedisUrl) -> anyhow::Result<Stores> {
    anyhow::bail!("`[storage] redis_url` is set but this binary was built without the redis feature")
}
