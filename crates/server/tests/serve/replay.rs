//! `serve`'s queue worker against a real HTTP receiver on loopback: delivery, retry then
//! dead letter, gating by the resource, and the queue state in the API with secrets hidden.

use crate::support::receiver;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::Request;
use elf_resilience::{
    CircuitBreakerRegistry, EnqueueRequest, HealthMonitor, ManualClock, RequestQueue, ResourceManager,
    ResourceStatus, ResourceType, SqliteQueue, StaticGate, TicketStatus,
};
use elf_resilience_server::config::Config;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::state::AppState;
use elf_resilience_server::{http, replay, serve, stores};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "h4ndlerpw";
const QUERY_TOKEN: &str = "qu3rytok3n";

fn config(dir: &std::path::Path, addr: SocketAddr, extra: &str) -> Config {
    let text = format!(
        "[storage]\ndata_dir = {dir:?}\n[server]\nbind = \"127.0.0.1:0\"\ntoken = \"tok-replay-0123456789\"\n\
         [health]\ndefault_checks = false\n[queue]\ninterval = \"50ms\"\nretry_in = \"30s\"\n\
         [[queue.handlers]]\nname = \"llm\"\n\
         url = \"http://bot:{PASSWORD}@{addr}/replay?token={QUERY_TOKEN}\"\n{extra}",
        dir = dir.display().to_string()
    );
    Config::parse(&text, std::path::Path::new("replay.toml")).unwrap()
}

async fn get_json(router: axum::Router, path: &str) -> (String, Value) {
    let res = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let text = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::Null);
    (text, v)
}

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(PASSWORD) && !text.contains(QUERY_TOKEN), "{what} leaks a handler secret: {text}");
}

#[tokio::test]
async fn serve_delivers_a_queued_request_to_its_handler() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, mut received, _) = receiver(200).await;
    let config = config(dir.path(), addr, "");
    let queue = stores::Stores::open(&config).unwrap().queue;
    let ticket =
        queue.enqueue(EnqueueRequest::new("llm", json!({"prompt": "hi"})), SystemTime::now()).unwrap();

    let redactor = Redactor::from_config(&config, &[]);
    let running = serve::start(&config, config.server.bind(), redactor.clone()).await.unwrap();
    let body = tokio::time::timeout(Duration::from_secs(20), received.recv()).await.unwrap().unwrap();
    assert_eq!(body.body, json!({"prompt": "hi"}), "the payload is POSTed as JSON");
    assert_eq!(body.idempotency_key.as_deref(), Some(ticket.0.as_str()), "the ticket is the idempotency key");
    assert_eq!(body.attempt.as_deref(), Some("1"));
    let done = async {
        while queue.status(&ticket).unwrap() != Some(TicketStatus::Done) {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), done).await.expect("acked after the 2xx");
    assert_eq!(queue.get(&ticket).unwrap().unwrap().result, Some(json!({"ok": true})));

    let router = http::app(running.state.clone(), redactor);
    let counted = async {
        loop {
            let (text, v) = get_json(router.clone(), "/api/queue").await;
            if v["worker"]["totals"]["succeeded"].as_u64().is_some_and(|n| n >= 1) {
                return (text, v);
            }
            tokio::task::yield_now().await;
        }
    };
    // The pass that acked is counted when it ends, just after the ack.
    let (text, v) =
        tokio::time::timeout(Duration::from_secs(20), counted).await.expect("the pass is counted");
    assert_eq!(v["counts"]["done"], 1, "{text}");
    assert_eq!(v["worker"]["handlers"][0]["name"], "llm");
    assert_eq!(v["worker"]["handlers"][0]["url"], format!("http://bot:***@{addr}/***"));
    assert_hidden("/api/queue", &text);
    let (page, _) = get_json(router, "/").await;
    assert!(page.contains("queue-worker"), "the dashboard shows the worker");
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn failures_are_retried_then_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, mut received, code) = receiver(503).await;
    let config = config(dir.path(), addr, "");
    let queue = Arc::new(SqliteQueue::open(dir.path().join("queue.db")).unwrap());
    let clock = ManualClock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let worker =
        replay::queue_worker(&config, queue.clone(), Arc::new(StaticGate::new()), clock.shared()).unwrap();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let ticket = queue.enqueue(EnqueueRequest::new("llm", json!({"n": 1})).max_attempts(3), t0).unwrap();

    let first = worker.run_once().await.unwrap();
    assert_eq!((first.delivered, first.failed, first.dead_lettered), (1, 1, 0));
    let req = queue.get(&ticket).unwrap().unwrap();
    assert_eq!((req.status, req.attempts), (TicketStatus::Pending, 1));
    assert_eq!(req.last_error.as_deref(), Some("handler answered HTTP 503"));
    assert_eq!(worker.run_once().await.unwrap().delivered, 0, "not again before retry_in");
    clock.advance(Duration::from_secs(30));
    assert_eq!(worker.run_once().await.unwrap().failed, 1);
    clock.advance(Duration::from_secs(59));
    assert_eq!(worker.run_once().await.unwrap().delivered, 0, "the second wait is twice retry_in");
    clock.advance(Duration::from_secs(1));
    let last = worker.run_once().await.unwrap();
    assert_eq!((last.failed, last.dead_lettered), (1, 1));
    assert_eq!(queue.status(&ticket).unwrap(), Some(TicketStatus::DeadLettered));
    let mut posts = 0;
    while received.try_recv().is_ok() {
        posts += 1;
    }
    assert_eq!(posts, 3, "three attempts reached the receiver");
    code.store(200, Ordering::SeqCst);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(worker.run_once().await.unwrap().delivered, 0, "a dead letter waits for `queue replay`");

    let state = AppState::new(
        ResourceManager::builder().build().unwrap(),
        HealthMonitor::default(),
        Arc::new(CircuitBreakerRegistry::default()),
        queue.clone(),
        config.server.token.clone().unwrap(),
        None,
    );
    state.set_replay(replay::status(&config));
    let (text, v) = get_json(http::app(state, Redactor::from_config(&config, &[])), "/api/queue").await;
    assert_eq!(v["counts"]["dead_lettered"], 1, "{text}");
    assert_eq!(v["items"][0]["last_error"], "handler answered HTTP 503");
    assert_eq!(v["items"][0]["attempts"], 3);
    assert_hidden("/api/queue", &text);
}

#[tokio::test]
async fn replay_waits_until_the_resource_is_usable() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, mut received, _) = receiver(200).await;
    let config = config(dir.path(), addr, "resource = \"database\"\n");
    let queue = Arc::new(SqliteQueue::open(dir.path().join("queue.db")).unwrap());
    let gate = Arc::new(StaticGate::new());
    gate.set(ResourceType::Database, ResourceStatus::Exhausted, 100.0);
    let worker =
        replay::queue_worker(&config, queue.clone(), gate.clone(), ManualClock::new().shared()).unwrap();
    let ticket = queue.enqueue(EnqueueRequest::new("llm", json!("x")), SystemTime::UNIX_EPOCH).unwrap();
    let pass = worker.run_once().await.unwrap();
    assert_eq!((pass.gated, pass.delivered), (1, 0));
    assert!(received.try_recv().is_err(), "nothing sent while the database is exhausted");
    gate.set(ResourceType::Database, ResourceStatus::Healthy, 10.0);
    assert_eq!(worker.run_once().await.unwrap().succeeded, 1);
    assert_eq!(queue.status(&ticket).unwrap(), Some(TicketStatus::Done));
}

#[tokio::test]
async fn a_handler_that_cannot_be_reached_fails_without_showing_its_url() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = config(dir.path(), closed, "timeout = \"2s\"\n");
    let queue = Arc::new(SqliteQueue::open(dir.path().join("queue.db")).unwrap());
    let worker = replay::queue_worker(
        &config,
        queue.clone(),
        Arc::new(StaticGate::new()),
        ManualClock::new().shared(),
    )
    .unwrap();
    let ticket = queue.enqueue(EnqueueRequest::new("llm", json!(1)), SystemTime::UNIX_EPOCH).unwrap();
    assert_eq!(worker.run_once().await.unwrap().failed, 1);
    let error = queue.get(&ticket).unwrap().unwrap().last_error.unwrap();
    assert!(error.starts_with("delivery failed"), "{error}");
    assert_hidden("last_error", &error);
}

#[tokio::test]
async fn an_unmeasured_resource_does_not_hold_replay() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, mut received, _) = receiver(200).await;
    let config = config(dir.path(), addr, "resource = \"database\"\n");
    let queue = Arc::new(SqliteQueue::open(dir.path().join("queue.db")).unwrap());
    let nothing_measured = Arc::new(ResourceManager::builder().build().unwrap());
    let worker =
        replay::queue_worker(&config, queue.clone(), nothing_measured, ManualClock::new().shared()).unwrap();
    let ticket = queue.enqueue(EnqueueRequest::new("llm", json!("x")), SystemTime::UNIX_EPOCH).unwrap();
    let pass = worker.run_once().await.unwrap();
    assert_eq!((pass.gated, pass.delivered, pass.succeeded), (0, 1, 1));
    assert!(received.try_recv().is_ok(), "the handler got the request");
    assert_eq!(queue.status(&ticket).unwrap(), Some(TicketStatus::Done));
}

#[tokio::test]
async fn a_huge_reply_is_kept_truncated_to_the_configured_size() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(3 * 1024 * 1024);
    let app = axum::Router::new().route("/replay", axum::routing::post(move || async move { huge.clone() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = config(dir.path(), addr, "");
    config.queue.max_result_bytes = Some(1000);
    let queue = Arc::new(SqliteQueue::open(dir.path().join("queue.db")).unwrap());
    let worker = replay::queue_worker(
        &config,
        queue.clone(),
        Arc::new(StaticGate::new()),
        ManualClock::new().shared(),
    )
    .unwrap();
    let ticket = queue.enqueue(EnqueueRequest::new("llm", json!("x")), SystemTime::UNIX_EPOCH).unwrap();
    assert_eq!(worker.run_once().await.unwrap().succeeded, 1);
    let result = queue.get(&ticket).unwrap().unwrap().result.unwrap();
    assert_eq!((result["truncated"].clone(), result["limit_bytes"].clone()), (json!(true), json!(1000)));
    assert_eq!(result["head"].as_str().map(str::len), Some(1000));
    assert!(
        std::fs::metadata(dir.path().join("queue.db")).unwrap().len() < 512 * 1024,
        "the reply was not stored whole"
    );
}

#[test]
fn max_result_bytes_is_read_from_the_queue_section() {
    let text = "[queue]\nmax_result_bytes = 4096\n";
    let config = Config::parse(text, std::path::Path::new("q.toml")).unwrap();
    assert_eq!(config.queue.max_result_bytes, Some(4096));
    assert_eq!(Config::parse("", std::path::Path::new("e.toml")).unwrap().queue.max_result_bytes, None);
    assert_eq!(replay::MAX_RESULT_BYTES, 1024 * 1024);
}
