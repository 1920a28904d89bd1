//! Redis backends against the local Redis (`ELF_TEST_REDIS_URL`); skipped with a message when
//! the variable is unset.
#![cfg(feature = "redis")]

use std::time::{Duration, SystemTime};

use std::sync::Arc;

use elf_resilience_core::{
    CircuitBreakerRegistry, EnqueueRequest, RequestQueue, ResponseCache, TicketStatus, cache_conformance,
    queue_conformance,
};
use elf_resilience_store::{
    BreakerCommand, BreakerPublisher, BreakerStateStore, Owner, RedisBreakerStore, RedisCache, RedisQueue,
    breaker_store_conformance,
};

fn url() -> Option<String> {
    let url = std::env::var("ELF_TEST_REDIS_URL").ok();
    if url.is_none() {
        println!("skipping: ELF_TEST_REDIS_URL is not set");
    }
    url
}

/// A prefix no other test run uses, and a cleanup of its keys.
fn prefix(name: &str) -> String {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
    format!("elf-test:{name}:{}:{nanos}", std::process::id())
}

fn cleanup(url: &str, prefix: &str) {
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query(&mut c).unwrap();
    if !keys.is_empty() {
        redis::cmd("DEL").arg(keys).exec(&mut c).unwrap();
    }
}

#[test]
fn the_redis_queue_conforms() {
    let Some(url) = url() else { return };
    let p = prefix("queue");
    queue_conformance(&RedisQueue::open(&url, &p).unwrap());
    cleanup(&url, &p);
}

#[test]
fn the_redis_cache_conforms() {
    let Some(url) = url() else { return };
    let p = prefix("cache");
    cache_conformance(&RedisCache::open(&url, &p, Duration::from_secs(60)).unwrap());
    cleanup(&url, &p);
}

#[test]
fn two_consumers_never_lease_the_same_request() {
    let Some(url) = url() else { return };
    let p = prefix("race");
    let q = RedisQueue::open(&url, &p).unwrap();
    let now = SystemTime::now();
    for i in 0..40 {
        q.enqueue(EnqueueRequest::new("h", serde_json::json!(i)), now).unwrap();
    }
    let consume = || {
        let q = RedisQueue::open(&url, &p).unwrap();
        let mut got = Vec::new();
        while let Some(r) = q.lease(None, now, Duration::from_secs(60)).unwrap() {
            got.push(r.payload.as_i64().unwrap());
        }
        got
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(consume);
        let b = s.spawn(consume);
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..40).collect::<Vec<_>>(), "each request leased exactly once");
    assert_eq!(q.list(Some(TicketStatus::Leased), 100).unwrap().len(), 40);
    cleanup(&url, &p);
}

#[test]
fn cache_entries_expire_after_ttl_plus_staleness() {
    let Some(url) = url() else { return };
    let p = prefix("cache-ttl");
    let cache = RedisCache::open(&url, &p, Duration::from_secs(60)).unwrap();
    cache.put("k", serde_json::json!(1), SystemTime::now(), Duration::from_secs(10)).unwrap();
    let mut c = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let ms: i64 = redis::cmd("PTTL").arg(format!("{p}:k")).query(&mut c).unwrap();
    assert!((69_000..=70_000).contains(&ms), "Redis evicts the key after TTL + staleness, PTTL {ms}");
    cleanup(&url, &p);
}

#[test]
fn the_redis_breaker_store_conforms() {
    let Some(url) = url() else { return };
    let p = prefix("breakers");
    breaker_store_conformance(&RedisBreakerStore::open(&url, &p).unwrap());
    cleanup(&url, &p);
}

#[test]
fn a_remote_trip_reaches_the_owner_through_redis() {
    let Some(url) = url() else { return };
    let p = prefix("breakers-cmd");
    let registry = Arc::new(CircuitBreakerRegistry::default());
    registry.get_or_create("openai");
    let store = Arc::new(RedisBreakerStore::open(&url, &p).unwrap());
    let publisher = BreakerPublisher::new(registry.clone(), store).owner(Owner::named("machine-1"));
    publisher.tick().unwrap();
    let dashboard = RedisBreakerStore::open(&url, &p).unwrap();
    assert_eq!(dashboard.snapshots().unwrap()[0].owner.id, "machine-1");
    dashboard.send_command("machine-1", "openai", BreakerCommand::Trip).unwrap();
    assert_eq!(publisher.tick().unwrap().applied, 1);
    assert!(registry.get("openai").unwrap().state().is_open());
    assert_eq!(dashboard.snapshots().unwrap()[0].state, "open");
    cleanup(&url, &p);
}

#[test]
fn replay_all_readies_waiting_requests_and_revives_dead_letters() {
    let Some(url) = url() else { return };
    let p = prefix("replay");
    let q = RedisQueue::open(&url, &p).unwrap();
    let now = SystemTime::now();
    let waiting = q.enqueue(EnqueueRequest::new("h", serde_json::json!(1)), now).unwrap();
    let dead = q.enqueue(EnqueueRequest::new("h", serde_json::json!(2)).max_attempts(1), now).unwrap();
    for _ in 0..2 {
        let r = q.lease(None, now, Duration::from_secs(60)).unwrap().unwrap();
        q.nack(&r.ticket, "down", now, Duration::from_secs(3600)).unwrap();
    }
    assert_eq!(q.status(&dead).unwrap(), Some(TicketStatus::DeadLettered));
    assert!(q.lease(None, now, Duration::from_secs(60)).unwrap().is_none(), "both wait");

    assert_eq!(q.replay_all(now).unwrap(), 2);
    let mut leased: Vec<_> = std::iter::from_fn(|| q.lease(None, now, Duration::from_secs(60)).unwrap())
        .map(|r| r.ticket)
        .collect();
    leased.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(leased, vec![waiting, dead]);
    cleanup(&url, &p);
}

#[test]
fn a_request_that_does_not_decode_is_dead_lettered_and_the_rest_flow() {
    let Some(url) = url() else { return };
    let p = prefix("undecodable");
    let q = RedisQueue::open(&url, &p).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let tickets: Vec<_> = (0..20)
        .map(|i| q.enqueue(EnqueueRequest::new("h", serde_json::json!({ "i": i })), now).unwrap())
        .collect();
    let id = tickets[3].0.trim_start_matches("rq-");
    let mut c = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let key = format!("{p}:req:{id}");
    let stored: String = redis::cmd("GET").arg(&key).query(&mut c).unwrap();
    let mut broken: serde_json::Value = serde_json::from_str(&stored).unwrap();
    broken.as_object_mut().unwrap().remove("context");
    redis::cmd("SET").arg(&key).arg(broken.to_string()).exec(&mut c).unwrap();

    assert_eq!(q.list(None, 100).unwrap().len(), 20, "listing shows the broken one too");
    let mut delivered = 0;
    while let Some(req) = q.lease(Some("h"), now, Duration::from_secs(60)).unwrap() {
        q.ack(&req.ticket, None).unwrap();
        delivered += 1;
    }
    assert_eq!(delivered, 19);
    let dead = q.get(&tickets[3]).unwrap().unwrap();
    assert_eq!((dead.status, dead.handler.as_str()), (TicketStatus::DeadLettered, "h"));
    let error = dead.last_error.unwrap();
    assert!(
        error.starts_with("undecodable: stored request does not decode") && error.contains("context"),
        "{error}"
    );
    assert!(dead.payload.as_str().is_some_and(|text| text.contains("\"i\":3")), "the stored text is kept");
    assert!(q.requeue(&tickets[3], now).is_err(), "an undecodable request cannot be requeued");
    assert!(q.remove(&tickets[3]).unwrap() && !q.remove(&tickets[3]).unwrap());
    assert_eq!(q.get(&tickets[3]).unwrap(), None);
    let done = &tickets[0];
    assert!(q.requeue(done, now).unwrap());
    let again = q.get(done).unwrap().unwrap();
    assert_eq!((again.status, again.attempts), (TicketStatus::Pending, 0));
    assert_eq!(q.lease(Some("h"), now, Duration::from_secs(60)).unwrap().unwrap().ticket, *done);
    cleanup(&url, &p);
}

#[test]
fn a_request_stored_before_expired_leases_were_counted_still_loads() {
    let Some(url) = url() else { return };
    let p = prefix("old-queue");
    let q = RedisQueue::open(&url, &p).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let t = q.enqueue(EnqueueRequest::new("h", serde_json::json!(1)).max_attempts(2), now).unwrap();
    let mut c = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let key = format!("{p}:req:{}", t.0.trim_start_matches("rq-"));
    let text: String = redis::cmd("GET").arg(&key).query(&mut c).unwrap();
    let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
    for field in ["expired_leases", "max_expired_leases", "released"] {
        assert!(old.as_object_mut().unwrap().remove(field).is_some(), "{field} is stored");
    }
    redis::cmd("SET").arg(&key).arg(old.to_string()).exec(&mut c).unwrap();
    let loaded = q.get(&t).unwrap().unwrap();
    assert_eq!((loaded.status, loaded.expired_leases, loaded.released), (TicketStatus::Pending, 0, 0));
    assert_eq!(loaded.max_expired_leases, EnqueueRequest::DEFAULT_MAX_EXPIRED_LEASES);
    q.lease(None, now, Duration::from_secs(1)).unwrap().unwrap();
    let again = q.lease(None, now + Duration::from_secs(1), Duration::from_secs(1)).unwrap().unwrap();
    assert_eq!((again.attempts, again.expired_leases), (2, 1));
    cleanup(&url, &p);
}

/// Requests stored before the per-status sets existed are indexed on open: counts and pages of
/// one status see them.
#[test]
fn a_queue_without_status_sets_is_indexed_on_open() {
    let Some(url) = url() else { return };
    let p = prefix("migrate");
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    {
        let q = RedisQueue::open(&url, &p).unwrap();
        for n in 0..4 {
            q.enqueue(EnqueueRequest::new("h", serde_json::json!(n)), now).unwrap();
        }
        let leased = q.lease(None, now, Duration::from_secs(60)).unwrap().unwrap();
        q.ack(&leased.ticket, None).unwrap();
    }
    let mut c = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let sets: Vec<String> = redis::cmd("KEYS").arg(format!("{p}:status:*")).query(&mut c).unwrap();
    assert!(!sets.is_empty(), "the queue keeps per-status sets");
    redis::cmd("DEL").arg(sets).arg(format!("{p}:indexed")).exec(&mut c).unwrap();
    let q = RedisQueue::open(&url, &p).unwrap();
    let counts = q.counts().unwrap();
    assert_eq!((counts.pending, counts.done, counts.total()), (3, 1, 4));
    assert_eq!(q.page(Some(TicketStatus::Pending), None, 10).unwrap().len(), 3);
    cleanup(&url, &p);
}
