//! A private `redis-server` that this test starts on its own loopback port, kills and starts
//! again (its data gone): the stores fail with Redis's error while it is down, never panic,
//! and work again once it is back, without being opened again.
#![cfg(feature = "redis")]

use std::time::{Duration, SystemTime};

use elf_resilience_core::{EnqueueRequest, RequestQueue, ResponseCache};
use elf_resilience_store::{PrivateRedis, RedisCache, RedisQueue};
use serde_json::json;

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn the_stores_reconnect_after_redis_restarts() {
    let port = PrivateRedis::free_port();
    let Some(server) = PrivateRedis::start(port) else {
        println!("skipping: redis-server is not installed");
        return;
    };
    let url = server.url();
    let queue = RedisQueue::open(&url, "elf-restart:queue").unwrap();
    let cache = RedisCache::open(&url, "elf-restart:cache", Duration::from_secs(60)).unwrap();
    let now = SystemTime::now();
    queue.enqueue(EnqueueRequest::new("h", json!(1)), now).unwrap();
    cache.put("k", json!("v"), now, HOUR).unwrap();

    server.kill();
    let down = queue.enqueue(EnqueueRequest::new("h", json!(2)), now).unwrap_err();
    assert!(!down.to_string().is_empty());
    assert!(cache.get("k", now, HOUR).is_err(), "a cache read while Redis is down is an error, not a panic");

    let _back = PrivateRedis::start(port).unwrap();
    let ticket = queue.enqueue(EnqueueRequest::new("h", json!(3)), now).expect("reconnected");
    let listed = queue.list(None, 10).unwrap();
    assert_eq!(
        listed.iter().map(|r| &r.ticket).collect::<Vec<_>>(),
        [&ticket],
        "the restarted Redis lost the rest"
    );
    cache.put("k", json!("again"), now, HOUR).expect("reconnected");
    assert_eq!(cache.get("k", now, HOUR).unwrap().map(|hit| hit.value), Some(json!("again")));
}
