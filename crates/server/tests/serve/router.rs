//! The HTTP surface through `oneshot`, no socket: routes, content types, auth, secrecy.

use crate::support::{get, post};
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use elf_resilience::{
    CheckOutcome, CircuitBreakerRegistry, EnqueueRequest, HealthCheck, HealthMonitor, InMemoryQueue,
    RequestQueue, ResourceManager,
};
use elf_resilience_server::config::{Config, Secret};
use elf_resilience_server::http::app;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::state::AppState;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const TOKEN: &str = "test-token-0123456789";
const DSN_PASSWORD: &str = "hunter2-db-pass";
const WEBHOOK: &str = "https://hooks.example.com/services/T000/B000/webhooksecret";

struct Fixture {
    state: AppState,
    redactor: Redactor,
    queue: Arc<InMemoryQueue>,
    registry: Arc<CircuitBreakerRegistry>,
}

fn secret_config() -> Config {
    let text = format!(
        "[[probes.databases]]\nname = \"main\"\nurl = \"postgres://app:{DSN_PASSWORD}@127.0.0.1/app\"\n\
         [[alerts]]\nkind = \"webhook\"\nurl = \"{WEBHOOK}\"\n[server]\ntoken = \"{TOKEN}\"\n"
    );
    Config::parse(&text, std::path::Path::new("test.toml")).unwrap()
}

async fn fixture(check_ok: bool) -> Fixture {
    let rm = ResourceManager::builder().build().unwrap();
    let health = HealthMonitor::default();
    let message = format!("db at postgres://app:{DSN_PASSWORD}@127.0.0.1/app");
    let check = HealthCheck::builder("db", move || {
        let m = message.clone();
        async move { if check_ok { CheckOutcome::healthy(m) } else { CheckOutcome::unhealthy(m) } }
    })
    .critical(true)
    .failure_threshold(1)
    .build()
    .unwrap();
    health.register_check(check).unwrap();
    health.run_check_now("db").await.unwrap();
    let registry = Arc::new(CircuitBreakerRegistry::default());
    registry.get_or_create("OpenAI-API");
    let queue = Arc::new(InMemoryQueue::new());
    let config = secret_config();
    let redactor = Redactor::from_config(&config, &[]);
    let token = config.server.token.clone().unwrap();
    let state = AppState::new(rm, health, registry.clone(), queue.clone(), token, None);
    Fixture { state, redactor, queue, registry }
}

async fn call(f: &Fixture, req: Request<Body>) -> (StatusCode, Option<String>, String) {
    let res = app(f.state.clone(), f.redactor.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let ctype = res.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn health_is_health_json_with_200_or_503() {
    let ok = fixture(true).await;
    let (status, ctype, body) = call(&ok, get("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype.as_deref(), Some("application/health+json"));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "pass");
    let bad = fixture(false).await;
    let (status, _, body) = call(&bad, get("/health")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "fail");
}

#[tokio::test]
async fn livez_and_readyz() {
    let f = fixture(true).await;
    assert_eq!(call(&f, get("/livez")).await.0, StatusCode::OK);
    assert_eq!(call(&f, get("/readyz")).await.0, StatusCode::SERVICE_UNAVAILABLE);
    f.state.set_ready(true);
    assert_eq!(call(&f, get("/readyz")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn api_endpoints_answer_json() {
    let f = fixture(true).await;
    f.queue
        .enqueue(EnqueueRequest::new("llm", serde_json::json!({"prompt": "hi"})), SystemTime::now())
        .unwrap();
    f.state.record_history(SystemTime::now());
    let (status, _, body) = call(&f, get("/api/resources")).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["report"]["resources"].as_array().unwrap().len(), 8);
    assert_eq!(v["history"]["memory"].as_array().unwrap().len(), 1);
    assert!(v["thresholds"]["cpu"]["critical"].as_f64().unwrap() > 0.0);
    let (_, _, body) = call(&f, get("/api/breakers")).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["name"], "OpenAI-API");
    assert_eq!(v[0]["state"], "closed");
    let (_, _, body) = call(&f, get("/api/queue")).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["counts"]["pending"], 1);
    assert_eq!(v["items"][0]["handler"], "llm");
    let (_, _, body) = call(&f, get("/api/health")).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["checks"]["db"]["status"], "healthy");
    assert_eq!(v["checks"]["db"]["history"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_dashboard_is_self_contained() {
    let f = fixture(true).await;
    let (status, ctype, body) = call(&f, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.unwrap().starts_with("text/html"));
    assert!(body.contains("<script>") && body.contains("/api/resources"));
    for external in ["http://", "https://", "src=\"", "href=\"http", "@import"] {
        let hits: Vec<_> = body
            .match_indices(external)
            .filter(|(i, _)| !body[*i..].starts_with("http://www.w3.org/2000/svg"))
            .collect();
        assert!(hits.is_empty(), "external reference `{external}` in the dashboard");
    }
}

#[tokio::test]
async fn breaker_actions_need_the_token() {
    let f = fixture(true).await;
    let (status, _, body) = call(&f, post("/api/breakers/OpenAI-API/trip", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("bearer token"));
    assert_eq!(
        call(&f, post("/api/breakers/OpenAI-API/trip", Some("wrong"))).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(!f.registry.get("OpenAI-API").unwrap().state().is_open(), "refused calls change nothing");

    let (status, _, body) = call(&f, post("/api/breakers/OpenAI-API/trip", Some(TOKEN))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["state"], "open");
    assert!(f.registry.get("OpenAI-API").unwrap().state().is_open());
    let (status, _, body) = call(&f, post("/api/breakers/OpenAI-API/reset", Some(TOKEN))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["state"], "closed");

    assert_eq!(call(&f, post("/api/breakers/nope/trip", Some(TOKEN))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&f, post("/api/breakers/OpenAI-API/explode", Some(TOKEN))).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(call(&f, get("/api/breakers/OpenAI-API/trip")).await.0, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn secrets_never_leave_the_api() {
    let f = fixture(false).await;
    let paths = ["/", "/health", "/api/health", "/api/resources", "/api/breakers", "/api/queue"];
    for path in paths {
        let (_, _, body) = call(&f, get(path)).await;
        for secret in [TOKEN, DSN_PASSWORD, WEBHOOK, "webhooksecret"] {
            assert!(!body.contains(secret), "{path} leaks {secret}");
        }
    }
    let (_, _, body) = call(&f, get("/api/health")).await;
    assert!(
        body.contains("postgres://***@127.0.0.1/app"),
        "the message is kept, the password hidden: {body}"
    );
    let shown = format!("{:?}", secret_config());
    assert!(!shown.contains(DSN_PASSWORD) && !shown.contains(TOKEN) && !shown.contains("webhooksecret"));
    let _ = Secret::new("x");
}

#[tokio::test]
async fn unknown_routes_are_404() {
    let f = fixture(true).await;
    assert_eq!(call(&f, get("/nope")).await.0, StatusCode::NOT_FOUND);
    let (status, _, _) = call(&f, get("/metrics")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no recorder installed in this fixture");
}

#[tokio::test]
async fn ordinary_query_values_in_a_handler_url_leave_the_output_intact() {
    let mut f = fixture(true).await;
    let text =
        "[[queue.handlers]]\nname = \"llm\"\nurl = \"http://127.0.0.1:9/replay?debug=true&mode=pass\"\n";
    f.redactor = Redactor::from_config(&Config::parse(text, std::path::Path::new("q.toml")).unwrap(), &[]);
    let (status, _, body) = call(&f, get("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "pass", "{body}");
    let (_, _, body) = call(&f, get("/api/health")).await;
    let report: Value = serde_json::from_str(&body).unwrap();
    assert!(report.is_object() && report["checks"]["db"].is_object(), "{body}");
}
