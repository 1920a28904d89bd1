//! Response caches for the `UseCache` fallback strategy.
//!
//! A [`ResponseCache`] keeps successful answers (as JSON) under a request key with a TTL. A read
//! names the staleness it accepts: an entry past its TTL is still served, marked
//! [`CachedValue::stale`], until `max_staleness` beyond it. Backends: [`InMemoryCache`]
//! (bounded, here) and SQLite (in the store crate); both pass [`cache_conformance`].
//!
//! Like the request queue, the trait is synchronous (SQLite is) and takes `now: SystemTime`
//! explicitly, so entries survive a restart and tests control time.

#[cfg(any(test, feature = "testing"))]
mod conformance;
mod memory;

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

#[cfg(feature = "testing")]
pub use conformance::cache_conformance;
pub use memory::InMemoryCache;

/// A value as a cache stores it: the answer and when it was stored and stays fresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The cached answer.
    pub value: serde_json::Value,
    /// When it was stored.
    pub stored_at: SystemTime,
    /// The end of its TTL.
    pub fresh_until: SystemTime,
}

impl CacheEntry {
    /// An entry stored at `now` for `ttl`.
    pub fn new(value: serde_json::Value, now: SystemTime, ttl: Duration) -> Self {
        Self { value, stored_at: now, fresh_until: now + ttl }
    }

    /// What a read at `now` accepting `max_staleness` sees: `None` once the entry is older than
    /// its TTL plus `max_staleness`. Shared by backends.
    pub fn read(&self, now: SystemTime, max_staleness: Duration) -> Option<CachedValue> {
        if now > self.fresh_until + max_staleness {
            return None;
        }
        Some(CachedValue {
            value: self.value.clone(),
            stored_at: self.stored_at,
            age: now.duration_since(self.stored_at).unwrap_or_default(),
            stale: now > self.fresh_until,
        })
    }
}

/// A cache hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedValue {
    /// The cached answer.
    pub value: serde_json::Value,
    /// When it was stored.
    pub stored_at: SystemTime,
    /// How old it is at the time of the read.
    pub age: Duration,
    /// Whether it is past its TTL (served within the accepted staleness).
    pub stale: bool,
}

/// A failure of a cache backend or its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The cache was configured wrongly (for example a capacity of zero).
    #[error("invalid cache config: {0}")]
    InvalidConfig(String),
    /// A value could not be serialized or deserialized.
    #[error("cache value: {0}")]
    Serialization(String),
    /// The storage behind the cache failed.
    #[error("cache backend: {0}")]
    Backend(String),
}

/// A store of successful answers by request key.
///
/// A [`ResponseCache`] keeps successful answers (as JSON) under a request key with a TTL. A read
/// names the staleness it accepts: an entry past its TTL is still served, marked
/// [`CachedValue::stale`], until `max_staleness` beyond it. Backends: [`InMemoryCache`]
/// (bounded, here) and SQLite (in the store crate); both pass `cache_conformance` (feature `testing`).
///
/// Like the request queue, the trait is synchronous (SQLite is) and takes `now: SystemTime`
/// explicitly, so entries survive a restart and tests control time.
pub trait ResponseCache: Send + Sync + fmt::Debug {
    /// The entry under `key` as seen at `now`, if it is at most `max_staleness` past its TTL.
    fn get(
        &self,
        key: &str,
        now: SystemTime,
        max_staleness: Duration,
    ) -> Result<Option<CachedValue>, CacheError>;

    /// Stores `value` under `key` at `now`, fresh for `ttl`; replaces any older entry.
    fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<(), CacheError>;

    /// Removes `key`; returns whether it was there.
    fn remove(&self, key: &str) -> Result<bool, CacheError>;
}
