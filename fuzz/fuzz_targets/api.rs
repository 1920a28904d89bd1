//! The HTTP surface, in process through `oneshot` behind the host check: any request line,
//! headers and body get an answer, never a panic and never a 500 (the state behind it has no
//! failing parts). The input is the request as text, HTTP/1 style.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use elf_resilience_core::{CircuitBreakerRegistry, InMemoryQueue};
use elf_resilience_fuzz::Message;
use elf_resilience_monitor::{HealthMonitor, ResourceManager};
use elf_resilience_server::config::{Config, Secret};
use elf_resilience_server::http::{HostPolicy, guarded};
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::state::AppState;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const TOKEN: &str = "fuzz-token-0123456789abcdef";
/// The bearer token's place in a seed: `authorization: Bearer $TOKEN`.
const TOKEN_MARK: &str = "$TOKEN";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    redactor: Redactor,
    policy: HostPolicy,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let resources = ResourceManager::builder().build().expect("a resource manager");
        let registry = Arc::new(CircuitBreakerRegistry::default());
        registry.get_or_create("OpenAI-API");
        let queue = Arc::new(InMemoryQueue::new());
        let state =
            AppState::new(resources, HealthMonitor::default(), registry, queue, Secret::new(TOKEN), None);
        let redactor = Redactor::from_config(&Config::default(), &[]);
        let policy = HostPolicy::new(([127, 0, 0, 1], 8686).into(), &[]);
        Fixture { runtime, state, redactor, policy }
    })
}

/// `METHOD /path?query` on the first line, header lines, a blank line, the body; a request
/// without a `host` header gets the bound address's.
fn request(text: &str) -> Option<Request<Body>> {
    let message = Message::read(text);
    let (method, uri) = message.start.split_once(' ')?;
    let mut builder = Request::builder().method(Method::from_bytes(method.as_bytes()).ok()?).uri(uri);
    for &(name, value) in &message.headers {
        builder = builder.header(name, value.replace(TOKEN_MARK, TOKEN));
    }
    if !message.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        builder = builder.header(header::HOST, "127.0.0.1:8686");
    }
    builder.body(Body::from(message.body.to_owned())).ok()
}

fuzz_target!(|text: &str| {
    let Some(req) = request(text) else { return };
    let f = fixture();
    let app = guarded(f.state.clone(), f.redactor.clone(), f.policy.clone());
    let response = f.runtime.block_on(app.oneshot(req)).expect("the router is infallible");
    assert_ne!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "500 for {text:?}");
});
