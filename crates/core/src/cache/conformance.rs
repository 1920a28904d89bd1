//! The behaviour every [`ResponseCache`] backend must show, as one reusable test.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::ResponseCache;

const SEC: Duration = Duration::from_secs(1);

/// Runs the shared cache test suite against `cache`, which must start empty and hold at least
/// 16 entries. Panics with the failed expectation when the backend deviates.
///
/// ```
/// let cache = elf_resilience_core::InMemoryCache::new(64).unwrap();
/// elf_resilience_core::cache_conformance(&cache);
/// ```
pub fn cache_conformance(cache: &dyn ResponseCache) {
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert!(cache.get("c-miss", t0, SEC).expect("get").is_none(), "empty cache must miss");
    fresh_then_stale_then_gone(cache, t0);
    put_replaces(cache, t0);
    remove_reports_presence(cache, t0);
}

fn fresh_then_stale_then_gone(cache: &dyn ResponseCache, t0: SystemTime) {
    let value = json!({"rows": [1, 2, 3], "source": "db"});
    cache.put("c-ttl", value.clone(), t0, 60 * SEC).expect("put");
    let fresh = cache.get("c-ttl", t0 + 30 * SEC, Duration::ZERO).expect("get").expect("fresh hit");
    assert_eq!(fresh.value, value);
    assert_eq!((fresh.stored_at, fresh.age, fresh.stale), (t0, 30 * SEC, false));
    let edge = cache.get("c-ttl", t0 + 60 * SEC, Duration::ZERO).expect("get");
    assert!(edge.is_some_and(|h| !h.stale), "fresh up to and including the TTL");
    let late = t0 + 90 * SEC;
    assert!(cache.get("c-ttl", late, 10 * SEC).expect("get").is_none(), "too stale to serve");
    let stale = cache.get("c-ttl", late, 30 * SEC).expect("get").expect("stale hit");
    assert_eq!((stale.age, stale.stale), (90 * SEC, true));
}

fn put_replaces(cache: &dyn ResponseCache, t0: SystemTime) {
    cache.put("c-put", json!("old"), t0, SEC).expect("put");
    cache.put("c-put", json!("new"), t0 + 5 * SEC, 10 * SEC).expect("put");
    let hit = cache.get("c-put", t0 + 6 * SEC, Duration::ZERO).expect("get").expect("hit");
    assert_eq!((hit.value, hit.stored_at, hit.stale), (json!("new"), t0 + 5 * SEC, false));
}

fn remove_reports_presence(cache: &dyn ResponseCache, t0: SystemTime) {
    cache.put("c-rm", json!(1), t0, SEC).expect("put");
    assert!(cache.remove("c-rm").expect("remove"));
    assert!(!cache.remove("c-rm").expect("remove twice"));
    assert!(cache.get("c-rm", t0, SEC).expect("get").is_none());
}
