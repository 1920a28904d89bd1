//! A store that stops answering (a paused `redis-server`, a SQLite file another connection holds
//! with `BEGIN EXCLUSIVE`): `/livez` still answers at once, the requests that need the store get
//! 503 naming it after `[storage] timeout`, and once the store is back everything answers 200.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::wire::{Answer, DEADLINE, get, start_full};

/// `[storage] timeout` of these tests.
const STORAGE_TIMEOUT: Duration = Duration::from_secs(1);
/// No breaker publishing or replay while the store is held: only the requests touch it.
const QUIET: &str = "[breakers]\npublish_interval = \"1h\"\n[queue]\ninterval = \"1h\"\n";

/// While the store is held: 10 `/api/breakers` hang, `/livez` answers within 1 s, and the 10
/// end with 503 naming the shared breaker store no sooner than the storage timeout; a scrape
/// of `/metrics` still gets 200.
async fn while_held(addr: SocketAddr) {
    let started = Instant::now();
    let hung: Vec<_> =
        (0..10).map(|_| tokio::spawn(async move { get(addr, "/api/breakers").await })).collect();
    let scrape = tokio::spawn(async move { get(addr, "/metrics").await });
    let livez = tokio::time::timeout(Duration::from_secs(1), get(addr, "/livez")).await;
    assert_eq!(livez.expect("/livez within 1 s while the store hangs").status, 200);
    let answers = tokio::time::timeout(DEADLINE, join_all(hung)).await.expect("the hung requests ended");
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(answer.status, 503, "{answer:?}");
        let error = answer.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains("shared breaker store did not answer within 1s"), "{error}");
    }
    assert!(started.elapsed() >= STORAGE_TIMEOUT, "503 before the storage timeout");
    let scrape = tokio::time::timeout(DEADLINE, scrape).await.expect("/metrics ended").unwrap();
    assert_eq!(scrape.status, 200, "/metrics goes on without the other processes' breakers");
}

/// Asks `/api/breakers` until it answers 200 (the threads stuck on the store finish first).
async fn answers_again(addr: SocketAddr) -> Answer {
    let until = Instant::now() + DEADLINE;
    loop {
        let answer = get(addr, "/api/breakers").await;
        if answer.status == 200 || Instant::now() > until {
            return answer;
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig} {pid}");
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_redis_costs_503s_not_the_server() {
    use elf_resilience_store::PrivateRedis;
    let Some(redis) = PrivateRedis::start(PrivateRedis::free_port()) else {
        println!("skipping: redis-server is not installed");
        return;
    };
    let storage = format!("timeout = \"1s\"\nredis_url = \"{}\"", redis.url());
    let (running, _dir) = start_full("", &storage, QUIET).await;
    let addr = running.addr;
    assert_eq!(get(addr, "/api/breakers").await.status, 200);

    signal(redis.pid(), "-STOP");
    while_held(addr).await;
    signal(redis.pid(), "-CONT");
    let answer = answers_again(addr).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(get(addr, "/metrics").await.status, 200);
    running.shutdown().await.unwrap();
    redis.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_held_exclusive_costs_503s_not_the_server() {
    let (running, dir) = start_full("", "timeout = \"1s\"", QUIET).await;
    let addr = running.addr;
    assert_eq!(get(addr, "/api/breakers").await.status, 200);

    let holder = rusqlite::Connection::open(dir.path().join("data").join("breakers.db")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    while_held(addr).await;
    holder.execute_batch("ROLLBACK").unwrap();
    let answer = answers_again(addr).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    running.shutdown().await.unwrap();
}

/// `/livez` for `span` while the store is held, one request every 100 ms, each within 1 s.
async fn livez_throughout(addr: SocketAddr, span: Duration) -> usize {
    let until = Instant::now() + span;
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    let mut answered = 0;
    while Instant::now() < until {
        pace.tick().await;
        let livez = tokio::time::timeout(Duration::from_secs(1), get(addr, "/livez")).await;
        assert_eq!(livez.expect("/livez within 1 s while the publisher waits on the store").status, 200);
        answered += 1;
    }
    answered
}

/// Waits until the shared breaker store holds a snapshot of `name`.
#[cfg(feature = "redis")]
async fn published(store: &elf_resilience_store::RedisBreakerStore, name: &str) -> bool {
    use elf_resilience_store::BreakerStateStore as _;
    let until = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    while Instant::now() < until {
        pace.tick().await;
        if store.snapshots().is_ok_and(|s| s.iter().any(|s| s.name == name)) {
            return true;
        }
    }
    false
}

/// The breaker publisher ticks every 50 ms against a paused Redis: with a single async worker,
/// `/livez` still answers within 1 s across many ticks (the publisher waits on a blocking
/// thread and skips the ticks that fall while it waits), and once Redis resumes it publishes
/// again: a breaker created after the resume shows up in the store.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_paused_redis_does_not_hold_a_worker_through_the_breaker_publisher() {
    use elf_resilience_store::{PrivateRedis, RedisBreakerStore};
    let Some(redis) = PrivateRedis::start(PrivateRedis::free_port()) else {
        println!("skipping: redis-server is not installed");
        return;
    };
    let storage = format!("timeout = \"1s\"\nredis_url = \"{}\"\nredis_prefix = \"stall\"", redis.url());
    let often = "[breakers]\npublish_interval = \"50ms\"\n[queue]\ninterval = \"1h\"\n";
    let (running, _dir) = start_full("", &storage, often).await;
    let addr = running.addr;
    assert_eq!(get(addr, "/livez").await.status, 200);

    signal(redis.pid(), "-STOP");
    let answered = livez_throughout(addr, Duration::from_secs(3)).await;
    signal(redis.pid(), "-CONT");
    assert!(answered >= 20, "only {answered} /livez answers in 3 s");

    running.state.breakers.get_or_create("created-after-resume");
    let store = RedisBreakerStore::open(&redis.url(), "stall:breakers").unwrap();
    assert!(
        published(&store, "created-after-resume").await,
        "the publisher published again after the resume"
    );
    running.shutdown().await.unwrap();
    redis.kill();
}
