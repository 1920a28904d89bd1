use std::time::{Duration, SystemTime};

use elf_resilience_core::{ResponseCache, cache_conformance};
use elf_resilience_store::SqliteCache;
use serde_json::json;

#[test]
fn the_sqlite_cache_conforms() {
    let dir = tempfile::tempdir().unwrap();
    cache_conformance(&SqliteCache::open(dir.path().join("c.db")).unwrap());
}

#[test]
fn entries_survive_a_reopen_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    SqliteCache::open(&path).unwrap().put("k", json!([1, 2]), t, Duration::from_secs(10)).unwrap();
    let cache = SqliteCache::open(&path).unwrap();
    assert_eq!(cache.get("k", t, Duration::ZERO).unwrap().unwrap().value, json!([1, 2]));
    assert_eq!(cache.evict_expired(t + Duration::from_secs(20), Duration::from_secs(15)).unwrap(), 0);
    assert_eq!(cache.evict_expired(t + Duration::from_secs(30), Duration::from_secs(15)).unwrap(), 1);
    assert!(cache.get("k", t, Duration::from_secs(3600)).unwrap().is_none());
}
