//! Redis as the storage backend (`[storage] redis_url` to a private `redis-server`): killed,
//! stopped (`kill -STOP`) and slow (behind a delaying [`TcpProxy`]). `storage:redis` turns
//! critical and says why, a library enqueue while it is down fails with an error, what was
//! queued before is delivered once Redis answers again, and `serve` is never restarted.
#![cfg(feature = "redis")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use elf_resilience::{EnqueueRequest, HealthStatus, RedisQueue, RequestQueue, Ticket, TicketStatus};
use elf_resilience_server::config::Config;
use elf_resilience_store::PrivateRedis;
use serde_json::json;

use crate::proxy::TcpProxy;
use crate::support::{bin, check_until, config, eventually, livez_is_fast, reported, serve};

const PREFIX: &str = "elf-test:faults";
const CHECK: &str = "storage:redis";

/// A config over Redis at `url`, replaying to `handler` every 50 ms, a failed delivery again
/// after 100 ms.
fn redis_config(dir: &Path, url: &str, handler: SocketAddr) -> Config {
    redis_config_file(dir, url, handler).0
}

/// [`redis_config`] and the file it was written to, for the binary.
fn redis_config_file(dir: &Path, url: &str, handler: SocketAddr) -> (Config, PathBuf) {
    let extra = format!(
        "redis_url = \"{url}\"\nredis_prefix = \"{PREFIX}\"\n[health]\ndefault_checks = false\n\
         interval = \"1h\"\n[queue]\ninterval = \"50ms\"\nretry_in = \"100ms\"\nlease_for = \"3s\"\n\
         [[queue.handlers]]\nname = \"llm\"\nurl = \"http://{handler}/replay\"\ntimeout = \"1s\"\n"
    );
    config(dir, &dir.join("data"), &extra)
}

fn started() -> Option<PrivateRedis> {
    let redis = PrivateRedis::start(PrivateRedis::free_port());
    if redis.is_none() {
        println!("skipping: redis-server is not installed");
    }
    redis
}

fn queue_at(url: &str) -> RedisQueue {
    RedisQueue::open(url, &format!("{PREFIX}:queue")).unwrap()
}

fn enqueue(queue: &RedisQueue, prompt: &str) -> Result<Ticket, elf_resilience::QueueError> {
    queue.enqueue(EnqueueRequest::new("llm", json!({ "prompt": prompt })), SystemTime::now())
}

async fn until_done(queue: &RedisQueue, ticket: &Ticket) {
    eventually(&format!("{ticket:?} is delivered"), || async {
        let r = queue.get(ticket).ok().flatten()?;
        (r.status == TicketStatus::Done).then_some(())
    })
    .await;
}

fn signal(pid: u32, name: &str) {
    let ok = std::process::Command::new("kill").args([name, &pid.to_string()]).status().unwrap();
    assert!(ok.success(), "kill {name} {pid}");
}

/// The check's message while Redis fails, checked on `/health` too, within the check's 1 s
/// timeout (plus a margin), `/livez` fast meanwhile.
async fn critical(running: &elf_resilience_server::serve::Running, why: &str) {
    let started = Instant::now();
    let message = check_until(running, CHECK, HealthStatus::Unhealthy).await;
    assert!(message.contains(why), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5), "critical only after {:?}", started.elapsed());
    livez_is_fast(running.addr).await;
    let (code, health, _) = reported(running.addr, CHECK).await;
    assert_eq!(code, 503, "{health}");
    assert!(health.contains(CHECK) && health.contains(why), "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_refuses_enqueues_clearly_and_serve_delivers_again_once_it_is_back() {
    let Some(redis) = started() else { return };
    let (port, url) = (redis.port(), redis.url());
    let (handler, mut received, _) = crate::support::receiver(200).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, file) = redis_config_file(dir.path(), &url, handler);
    let running = serve(&config).await;
    let library = queue_at(&url);
    check_until(&running, CHECK, HealthStatus::Healthy).await;

    redis.kill();
    critical(&running, "redis unreachable").await;
    let out = bin(&file, &["health"]).await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains(CHECK) && said.contains("refused"), "`health` says so too: {said}");
    // The first call finds the connection gone, later ones cannot open another; each says
    // Redis is unreachable.
    let said: Vec<String> =
        (0..6).map(|_| enqueue(&library, "while down").expect_err("Redis is down").to_string()).collect();
    assert!(said.iter().all(|s| s.starts_with("queue backend: redis unreachable: ")), "{said:?}");

    let _back = PrivateRedis::start(port).unwrap();
    check_until(&running, CHECK, HealthStatus::Healthy).await;
    let out = bin(&file, &["health"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let ticket = eventually("the library's queue reconnects by itself", || async {
        enqueue(&library, "after").map_err(|e| println!("{e}")).ok()
    })
    .await;
    let got = tokio::time::timeout(crate::support::DEADLINE, received.recv()).await.unwrap().unwrap();
    assert_eq!(got.body, json!({"prompt": "after"}), "serve's worker reconnected too");
    until_done(&library, &ticket).await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_times_out_and_what_was_queued_is_delivered_when_it_goes_on() {
    let Some(redis) = started() else { return };
    let (handler, mut received, code) = crate::support::receiver(503).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, file) = redis_config_file(dir.path(), &redis.url(), handler);
    let running = serve(&config).await;
    let library = queue_at(&redis.url());
    let ticket = enqueue(&library, "queued before").unwrap();
    let first = tokio::time::timeout(crate::support::DEADLINE, received.recv()).await.unwrap().unwrap();
    assert_eq!(first.body, json!({"prompt": "queued before"}));

    signal(redis.pid(), "-STOP");
    code.store(200, std::sync::atomic::Ordering::SeqCst);
    critical(&running, "timed out").await;
    let started = Instant::now();
    let out = bin(&file, &["health"]).await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains(CHECK) && said.contains("timed out after 1s"), "{said}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "`health` took {took:?}: a probe must not wait for Redis's 5 s");

    signal(redis.pid(), "-CONT");
    check_until(&running, CHECK, HealthStatus::Healthy).await;
    until_done(&library, &ticket).await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_is_critical_while_slower_than_the_check_and_healthy_once_fast() {
    let Some(redis) = started() else { return };
    let proxy = TcpProxy::start(format!("127.0.0.1:{}", redis.port()).parse().unwrap()).await;
    let (handler, _received, _) = crate::support::receiver(200).await;
    let dir = tempfile::tempdir().unwrap();
    let running = serve(&redis_config(dir.path(), &format!("redis://{}", proxy.addr()), handler)).await;
    check_until(&running, CHECK, HealthStatus::Healthy).await;

    proxy.delay(Duration::from_millis(1500));
    for _ in 0..5 {
        let r = running.state.health.run_check_now(CHECK).await.unwrap();
        assert!(r.duration < Duration::from_millis(1500), "a 1 s check took {:?}: {}", r.duration, r.message);
        livez_is_fast(running.addr).await;
    }
    // The check's own 1 s timeout, or Redis's 5 s I/O timeout of a command queued behind
    // another (reported by the OS as EAGAIN).
    critical(&running, "").await;
    let message = running.state.health.get_health_report().checks[CHECK].message.clone();
    assert!(message.contains("timed out") || message.contains("os error 11"), "{message}");

    proxy.resume();
    check_until(&running, CHECK, HealthStatus::Healthy).await;
    let library = queue_at(&format!("redis://{}", proxy.addr()));
    let ticket = enqueue(&library, "once fast").unwrap();
    until_done(&library, &ticket).await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_on_a_connection_redis_dropped_says_redis_is_unreachable() {
    let Some(redis) = started() else { return };
    let library = queue_at(&redis.url());
    redis.kill();
    for _ in 0..3 {
        let said = enqueue(&library, "while down").expect_err("nothing to enqueue into").to_string();
        assert!(said.contains("redis unreachable"), "{said}");
    }
}
