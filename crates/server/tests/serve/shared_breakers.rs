//! Breakers of other processes in `/api/breakers`, and trip / reset sent to their owners.
//! Two registries in one test stand for two processes sharing `breakers.db`.

use crate::support::{get, post};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use elf_resilience::{
    BreakerPublisher, CircuitBreakerRegistry, HealthMonitor, InMemoryQueue, Owner, ResourceManager,
};
use elf_resilience_server::config::Config;
use elf_resilience_server::http::app;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::shared::SharedBreakers;
use elf_resilience_server::state::AppState;
use elf_resilience_server::stores::Stores;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const TOKEN: &str = "tok-shared-0123456789";

struct World {
    router: axum::Router,
    shared: SharedBreakers,
    worker: Arc<CircuitBreakerRegistry>,
    publisher: BreakerPublisher,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[storage]\ndata_dir = {:?}\n[server]\ntoken = \"{TOKEN}\"\n",
        dir.path().display().to_string()
    );
    let config = Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let stores = Stores::open(&config).unwrap();
    // The other process: a worker with its own registry, publishing to the same file.
    let worker = Arc::new(CircuitBreakerRegistry::default());
    worker.get_or_create("openai");
    let publisher =
        BreakerPublisher::new(worker.clone(), stores.breakers.clone()).owner(Owner::named("worker-7"));
    publisher.tick().unwrap();
    // The server's own.
    let local = Arc::new(CircuitBreakerRegistry::default());
    local.get_or_create("postgres");
    let state = AppState::new(
        ResourceManager::builder().build().unwrap(),
        HealthMonitor::default(),
        local,
        Arc::new(InMemoryQueue::new()),
        config.server.token.clone().unwrap(),
        None,
    );
    let shared = SharedBreakers::new(stores.breakers.clone(), Owner::named("server"), &config);
    state.set_shared_breakers(shared.clone());
    let router = app(state, Redactor::from_config(&config, &[]));
    World { router, shared, worker, publisher, _dir: dir }
}

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn other_processes_breakers_are_listed_with_their_owner() {
    let w = world();
    let (status, v) = call(&w.router, get("/api/breakers")).await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (b["name"].as_str().unwrap(), b["owner"]["id"].as_str().unwrap(), b["local"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(rows, [("postgres", "server", true), ("openai", "worker-7", false)]);
    assert_eq!(v[1]["owner"]["pid"], std::process::id());
    assert_eq!(v[1]["state"], "closed");
    assert_eq!(v[1]["stale"], false);
}

#[tokio::test]
async fn a_remote_trip_is_applied_by_the_owner_on_its_next_tick() {
    let w = world();
    let (status, _) = call(&w.router, post("/api/breakers/openai/trip", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, v) = call(&w.router, post("/api/breakers/openai/trip", Some(TOKEN))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(v["sent_to"][0], "worker-7");
    assert!(!w.worker.get("openai").unwrap().state().is_open(), "not before the owner's tick");
    assert_eq!(w.publisher.tick().unwrap().applied, 1);
    assert!(w.worker.get("openai").unwrap().state().is_open(), "the owner applied it");
    let (_, v) = call(&w.router, get("/api/breakers")).await;
    assert_eq!(v[1]["state"], "open", "and the dashboard sees it");

    let (status, _) = call(&w.router, post("/api/breakers/openai/reset?owner=worker-7", Some(TOKEN))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    w.publisher.tick().unwrap();
    assert!(!w.worker.get("openai").unwrap().state().is_open());
    let (status, _) = call(&w.router, post("/api/breakers/openai/trip?owner=nobody", Some(TOKEN))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = call(&w.router, post("/api/breakers/postgres/trip", Some(TOKEN))).await;
    assert_eq!(
        (status, v["state"].as_str()),
        (StatusCode::OK, Some("open")),
        "a local breaker changes at once"
    );
}

#[tokio::test]
async fn silent_owners_turn_stale_then_disappear() {
    let w = world();
    let now = SystemTime::now();
    let rows = w.shared.listing(&[], now + Duration::from_secs(5)).unwrap();
    assert_eq!(rows[0]["stale"], false);
    let rows = w.shared.listing(&[], now + Duration::from_secs(45)).unwrap();
    assert_eq!(rows[0]["stale"], true, "30 s without an update");
    assert!(rows[0]["age"].as_f64().unwrap() >= 44.0);
    assert!(
        w.shared.listing(&[], now + Duration::from_secs(700)).unwrap().is_empty(),
        "dropped after 10 min"
    );
    assert!(w.shared.store.snapshots().unwrap().is_empty(), "and removed from the store");
}
