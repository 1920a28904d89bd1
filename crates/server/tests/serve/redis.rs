//! `[storage] redis_url`: `serve` and `queue` over the local Redis (`ELF_TEST_REDIS_URL`; the
//! tests that need it print why they skip when it is unset). Each test keeps its keys under its
//! own prefix and deletes them at the end.
#![cfg(feature = "redis")]

use crate::support::receiver;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use elf_resilience::{
    BreakerPublisher, CircuitBreakerRegistry, EnqueueRequest, Owner, RedisBreakerStore, RedisQueue,
    RequestQueue, Ticket, TicketStatus,
};
use elf_resilience_server::config::Config;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::serve;
use elf_resilience_store::PrivateRedis;
use serde_json::{Value, json};

const TOKEN: &str = "tok-redis-0123456789";

fn redis_url() -> Option<String> {
    let url = std::env::var("ELF_TEST_REDIS_URL").ok();
    if url.is_none() {
        println!("skipping: ELF_TEST_REDIS_URL is not set");
    }
    url
}

/// Keys no other test or run uses; [`Keys`] deletes them when dropped.
struct Keys {
    url: String,
    prefix: String,
}

impl Keys {
    fn new(url: &str, test: &str) -> Self {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
        Self { url: url.to_owned(), prefix: format!("elf-test:server:{test}:{}:{nanos}", std::process::id()) }
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let Ok(mut c) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection()) else {
            return;
        };
        let keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{}:*", self.prefix)).query(&mut c).unwrap_or_default();
        if !keys.is_empty() {
            let _ = redis::cmd("DEL").arg(keys).exec(&mut c);
        }
    }
}

/// The config text (also written to `dir/elf-resilience.toml` for the binary).
fn config(dir: &Path, url: &str, prefix: &str, handler: SocketAddr) -> (Config, PathBuf) {
    let text = format!(
        "[storage]\ndata_dir = {dir:?}\nredis_url = \"{url}\"\nredis_prefix = \"{prefix}\"\n\
         [server]\nbind = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n[health]\ndefault_checks = false\n\
         [queue]\ninterval = \"50ms\"\nretry_in = \"1h\"\n\
         [[queue.handlers]]\nname = \"llm\"\nurl = \"http://{handler}/replay\"\n",
        dir = dir.display().to_string()
    );
    let path = dir.join("elf-resilience.toml");
    std::fs::write(&path, &text).unwrap();
    (Config::parse(&text, &path).unwrap(), path)
}

fn bin(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_elf-resilience"))
        .env_remove("ELF_RESILIENCE_CONFIG")
        .env_remove("RUST_LOG")
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

async fn get_json(addr: SocketAddr, path: &str) -> Value {
    reqwest::get(format!("http://{addr}{path}")).await.unwrap().json().await.unwrap()
}

async fn until_status(queue: &RedisQueue, ticket: &Ticket, want: TicketStatus, attempts: u32) {
    let reached = async {
        loop {
            let r = queue.get(ticket).unwrap().unwrap();
            if r.status == want && r.attempts == attempts {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), reached).await.expect("the queue reaches the status");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_shows_and_replays_a_request_another_process_queued_in_redis() {
    let Some(url) = redis_url() else { return };
    let keys = Keys::new(&url, "queue");
    let dir = tempfile::tempdir().unwrap();
    let (handler, mut received, code) = receiver(503).await;
    let (config, file) = config(dir.path(), &url, &keys.prefix, handler);
    // A library user's process queues a call while its provider is down.
    let queue = RedisQueue::open(&url, &format!("{}:queue", keys.prefix)).unwrap();
    let ticket =
        queue.enqueue(EnqueueRequest::new("llm", json!({"prompt": "hi"})), SystemTime::now()).unwrap();

    let running =
        serve::start(&config, config.server.bind(), Redactor::from_config(&config, &[])).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(20), received.recv()).await.unwrap().unwrap();
    assert_eq!(first.body, json!({"prompt": "hi"}), "serve's worker leased it from Redis");
    assert_eq!(first.idempotency_key.as_deref(), Some(ticket.0.as_str()));
    until_status(&queue, &ticket, TicketStatus::Pending, 1).await;
    let api = get_json(running.addr, "/api/queue").await;
    assert_eq!(api["counts"]["pending"], 1, "{api}");
    assert_eq!(api["items"][0]["ticket"], ticket.0, "{api}");
    assert_eq!(api["items"][0]["last_error"], "handler answered HTTP 503", "{api}");

    let listed = bin(&file, &["queue", "list", "--json"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let items: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(items[0]["ticket"], ticket.0, "`queue list` reads Redis: {items}");
    assert_eq!(items[0]["status"], "pending");

    code.store(200, Ordering::SeqCst);
    let replayed = bin(&file, &["queue", "replay"]);
    assert_eq!(String::from_utf8_lossy(&replayed.stdout).trim(), "1 request(s) ready for delivery");
    let second = tokio::time::timeout(Duration::from_secs(20), received.recv()).await.unwrap().unwrap();
    assert_eq!(
        second.body,
        json!({"prompt": "hi"}),
        "delivered again once replayed, not after the 1 h retry"
    );
    assert_eq!(second.idempotency_key, first.idempotency_key, "a redelivery carries the same key");
    assert_eq!((first.attempt.as_deref(), second.attempt.as_deref()), (Some("1"), Some("2")));
    until_status(&queue, &ticket, TicketStatus::Done, 2).await;
    assert_eq!(get_json(running.addr, "/api/queue").await["counts"]["done"], 1);
    running.shutdown().await.unwrap();
    for sqlite in ["queue.db", "cache.db", "breakers.db"] {
        assert!(!dir.path().join(sqlite).exists(), "{sqlite} was created beside Redis");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_breaker_in_redis_shows_in_the_api_and_metrics_and_takes_commands() {
    let Some(url) = redis_url() else { return };
    let keys = Keys::new(&url, "breakers");
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = config(dir.path(), &url, &keys.prefix, "127.0.0.1:9".parse().unwrap());
    // The other process: its own registry, publishing to the server's Redis keys.
    let worker = Arc::new(CircuitBreakerRegistry::default());
    worker.get_or_create("openai").trip();
    let store = Arc::new(RedisBreakerStore::open(&url, &format!("{}:breakers", keys.prefix)).unwrap());
    let publisher = BreakerPublisher::new(worker.clone(), store).owner(Owner::named("worker-7"));
    publisher.tick().unwrap();

    let running =
        serve::start(&config, config.server.bind(), Redactor::from_config(&config, &[])).await.unwrap();
    let listing = get_json(running.addr, "/api/breakers").await;
    let remote = listing.as_array().unwrap().iter().find(|b| b["name"] == "openai").expect("listed");
    assert_eq!((remote["owner"]["id"].as_str(), remote["local"].as_bool()), (Some("worker-7"), Some(false)));
    assert_eq!(remote["state"], "open", "{remote}");

    let metrics =
        reqwest::get(format!("http://{}/metrics", running.addr)).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("elf_circuit_breaker_state{name=\"openai\",owner=\"worker-7\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("elf_circuit_breaker_open{name=\"openai\",owner=\"worker-7\"} 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("elf_circuit_breaker_snapshot_age_seconds{name=\"openai\",owner=\"worker-7\"}"));
    promtool(&metrics);

    let reset = reqwest::Client::new()
        .post(format!("http://{}/api/breakers/openai/reset", running.addr))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::ACCEPTED);
    publisher.tick().unwrap();
    assert_eq!(
        worker.get("openai").unwrap().state(),
        elf_resilience::CircuitState::Closed,
        "applied via Redis"
    );
    running.shutdown().await.unwrap();
}

/// `promtool check metrics`, when installed.
fn promtool(metrics: &str) {
    use std::process::Stdio;
    let Ok(mut p) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        println!("skipping promtool: not installed");
        return;
    };
    std::io::Write::write_all(p.stdin.as_mut().unwrap(), metrics.as_bytes()).unwrap();
    let out = p.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool check metrics failed:\n{said}\n--- metrics ---\n{metrics}");
}

#[test]
fn an_unreachable_redis_stops_serve_and_queue_before_anything_starts_but_not_report() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("redis://user:s3cr3t@{closed}");
    let (_, file) = config(dir.path(), &url, "elf-test:unreachable", "127.0.0.1:9".parse().unwrap());
    for args in [&["serve"][..], &["queue", "list"]] {
        let out = bin(&file, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!("cannot connect to Redis at redis://user:***@{closed}")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("s3cr3t"), "{err}");
        assert!(out.stdout.is_empty(), "{args:?} printed {:?}", String::from_utf8_lossy(&out.stdout));
    }
    let written: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(written, ["elf-resilience.toml"], "nothing half-started in the data directory");
    let report = bin(&file, &["report", "--hours", "1"]);
    assert!(
        report.status.success(),
        "the ledger needs no Redis: {}",
        String::from_utf8_lossy(&report.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_says_when_redis_is_down_and_serve_works_again_once_it_is_back() {
    let port = PrivateRedis::free_port();
    let Some(redis) = PrivateRedis::start(port) else {
        println!("skipping: redis-server is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (handler, _received, _) = receiver(200).await;
    let url = redis.url();
    let (config, _) = config(dir.path(), &url, "elf-test:restart", handler);
    let running =
        serve::start(&config, config.server.bind(), Redactor::from_config(&config, &[])).await.unwrap();
    let health = &running.state.health;
    assert_eq!(
        health.run_check_now("storage:redis").await.unwrap().status,
        elf_resilience::HealthStatus::Healthy
    );

    redis.kill();
    let down = health.run_check_now("storage:redis").await.unwrap();
    assert_eq!(down.status, elf_resilience::HealthStatus::Unhealthy, "{down:?}");
    assert!(down.message.starts_with("redis unreachable"), "{}", down.message);
    let answer = reqwest::get(format!("http://{}/health", running.addr)).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);

    let _back = PrivateRedis::start(port).unwrap();
    assert_eq!(
        health.run_check_now("storage:redis").await.unwrap().status,
        elf_resilience::HealthStatus::Healthy
    );
    let queue = get_json(running.addr, "/api/queue").await;
    assert!(queue["counts"].is_object(), "the API reads Redis again: {queue}");
    running.shutdown().await.unwrap();
}
