//! The bounded in-memory [`ResponseCache`].

use std::fmt;
use std::time::{Duration, SystemTime};

use quick_cache::sync::Cache;

use super::{CacheEntry, CacheError, CachedValue, ResponseCache};

/// A [`ResponseCache`] in memory, bounded to a number of entries (evicting with the CLOCK-Pro
/// policy of `quick_cache`). Entries past their staleness are dropped when read.
///
/// ```
/// use elf_resilience_core::{InMemoryCache, ResponseCache};
/// use std::time::{Duration, SystemTime};
///
/// let cache = InMemoryCache::new(1_000).unwrap();
/// let now = SystemTime::UNIX_EPOCH;
/// cache.put("q:42", serde_json::json!({"rows": 3}), now, Duration::from_secs(60)).unwrap();
/// let later = now + Duration::from_secs(90);
/// let hit = cache.get("q:42", later, Duration::from_secs(300)).unwrap().unwrap();
/// assert!(hit.stale);
/// assert_eq!(hit.age, Duration::from_secs(90));
/// ```
pub struct InMemoryCache {
    entries: Cache<String, CacheEntry>,
    capacity: usize,
}

impl fmt::Debug for InMemoryCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryCache")
            .field("capacity", &self.capacity)
            .field("len", &self.entries.len())
            .finish()
    }
}

impl InMemoryCache {
    /// A cache holding at most `capacity` entries; zero is rejected.
    pub fn new(capacity: usize) -> Result<Self, CacheError> {
        if capacity == 0 {
            return Err(CacheError::InvalidConfig("capacity must be at least 1".into()));
        }
        Ok(Self { entries: Cache::new(capacity), capacity })
    }

    /// How many entries it holds now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The configured capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl ResponseCache for InMemoryCache {
    fn get(
        &self,
        key: &str,
        now: SystemTime,
        max_staleness: Duration,
    ) -> Result<Option<CachedValue>, CacheError> {
        let Some(entry) = self.entries.get(key) else { return Ok(None) };
        let hit = entry.read(now, max_staleness);
        Ok(hit)
    }

    fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.entries.insert(key.to_owned(), CacheEntry::new(value, now, ttl));
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<bool, CacheError> {
        Ok(self.entries.remove(key).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_conformance_suite() {
        super::super::conformance::cache_conformance(&InMemoryCache::new(64).unwrap());
    }

    #[test]
    fn rejects_zero_capacity_and_stays_bounded() {
        assert!(matches!(InMemoryCache::new(0), Err(CacheError::InvalidConfig(_))));
        let cache = InMemoryCache::new(8).unwrap();
        let now = SystemTime::UNIX_EPOCH;
        for i in 0..100 {
            cache.put(&format!("k{i}"), serde_json::json!(i), now, Duration::from_secs(1)).unwrap();
        }
        assert!(cache.len() <= 8, "len {} exceeds capacity", cache.len());
    }
}
