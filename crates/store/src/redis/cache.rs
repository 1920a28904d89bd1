//! The response cache in Redis.

use std::time::{Duration, SystemTime};

use elf_resilience_core::{CacheEntry, CacheError, CachedValue, ResponseCache};
use redis::Commands;

use super::{Conn, RedisStoreError};

/// A [`ResponseCache`] in Redis: one string key per entry holding its JSON, expiring
/// `keep_stale_for` after its TTL so stale answers remain available for a while.
#[derive(Debug)]
pub struct RedisCache {
    conn: Conn,
    keep_stale_for: Duration,
}

impl RedisCache {
    /// Connects to `url` (`redis://host:port/db`); keys start with `prefix:`.
    pub fn open(url: &str, prefix: &str, keep_stale_for: Duration) -> Result<Self, RedisStoreError> {
        Ok(Self { conn: Conn::open(url, prefix)?, keep_stale_for })
    }
}

fn backend(e: redis::RedisError) -> CacheError {
    CacheError::Backend(super::describe(&e))
}

fn ser(e: serde_json::Error) -> CacheError {
    CacheError::Serialization(e.to_string())
}

impl ResponseCache for RedisCache {
    fn get(
        &self,
        key: &str,
        now: SystemTime,
        max_staleness: Duration,
    ) -> Result<Option<CachedValue>, CacheError> {
        let text: Option<String> = self.conn.get().get(self.conn.key(key)).map_err(backend)?;
        let Some(text) = text else { return Ok(None) };
        let entry: CacheEntry = serde_json::from_str(&text).map_err(ser)?;
        Ok(entry.read(now, max_staleness))
    }

    fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let text = serde_json::to_string(&CacheEntry::new(value, now, ttl)).map_err(ser)?;
        let expire_ms = u64::try_from((ttl + self.keep_stale_for).as_millis()).unwrap_or(u64::MAX).max(1);
        let () = self.conn.get().pset_ex(self.conn.key(key), text, expire_ms).map_err(backend)?;
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<bool, CacheError> {
        let n: u64 = self.conn.get().del(self.conn.key(key)).map_err(backend)?;
        Ok(n > 0)
    }
}
