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

const T0: u64 = 1_800_000_000;

fn at(clock: &elf_resilience_core::ManualClock) -> SystemTime {
    elf_resilience_core::Clock::wall(clock)
}

#[test]
fn every_nth_write_evicts_what_no_read_can_serve() {
    let dir = tempfile::tempdir().unwrap();
    let clock =
        elf_resilience_core::ManualClock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(T0));
    let cache = SqliteCache::open(dir.path().join("c.db"))
        .unwrap()
        .max_staleness(Duration::from_secs(30))
        .evict_every(3);
    let ttl = Duration::from_secs(10);
    cache.put("old", json!("a"), at(&clock), ttl).unwrap();
    clock.advance(Duration::from_secs(39));
    cache.put("b", json!("b"), at(&clock), ttl).unwrap();
    clock.advance(Duration::from_secs(2)); // "old" is now 41 s old: past TTL + staleness
    assert!(cache.get("old", at(&clock), Duration::from_secs(3600)).unwrap().is_some(), "not yet evicted");
    cache.put("c", json!("c"), at(&clock), ttl).unwrap(); // the third write evicts
    assert!(cache.get("old", at(&clock), Duration::from_secs(3600)).unwrap().is_none(), "evicted on write");
    assert_eq!(cache.get("b", at(&clock), Duration::from_secs(30)).unwrap().unwrap().value, json!("b"));
}

#[test]
fn a_size_bound_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let clock =
        elf_resilience_core::ManualClock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(T0));
    let cache = SqliteCache::open(dir.path().join("c.db")).unwrap().max_entries(2);
    for key in ["a", "b", "c", "d"] {
        cache.put(key, json!(key), at(&clock), Duration::from_secs(60)).unwrap();
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(cache.evict(at(&clock)).unwrap(), 2);
    let kept: Vec<_> = ["a", "b", "c", "d"]
        .into_iter()
        .filter(|k| cache.get(k, at(&clock), Duration::ZERO).unwrap().is_some())
        .collect();
    assert_eq!(kept, ["c", "d"]);
}

#[tokio::test(start_paused = true)]
async fn the_evictor_task_runs_at_its_interval() {
    let dir = tempfile::tempdir().unwrap();
    let clock =
        elf_resilience_core::ManualClock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(T0));
    let cache = std::sync::Arc::new(
        SqliteCache::open(dir.path().join("c.db")).unwrap().max_staleness(Duration::from_secs(5)),
    );
    cache.put("k", json!(1), at(&clock), Duration::from_secs(5)).unwrap();
    let task = cache.spawn_evictor(clock.shared(), Duration::from_secs(60));
    tokio::task::yield_now().await; // the immediate first pass: nothing expired
    clock.advance(Duration::from_secs(11));
    assert!(cache.get("k", at(&clock), Duration::from_secs(3600)).unwrap().is_some());
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert!(cache.get("k", at(&clock), Duration::from_secs(3600)).unwrap().is_none(), "evicted by the task");
    task.abort();
}
