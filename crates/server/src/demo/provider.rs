//! A flaky "LLM provider" on loopback: rate limits (429 with OpenAI-style headers), overload
//! (529), slow replies, small context windows, and outages the demo switches on and off.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The models the provider serves, best first.
pub const MODELS: [&str; 3] = ["gpt-4", "claude-3", "gpt-3.5"];
/// Above this many tokens the small model answers "context too long".
pub const SMALL_CONTEXT: u32 = 512;

/// What the provider is going through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Everyday flakiness.
    Normal = 0,
    /// The primary model is down (529 on every call).
    PrimaryOutage = 1,
    /// Every model is down.
    FullOutage = 2,
}

/// A chat request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model.
    pub model: String,
    /// The prompt.
    pub prompt: String,
    /// The completion budget.
    pub max_tokens: u32,
}

#[derive(Debug)]
struct Shared {
    phase: AtomicU8,
    rng: Mutex<fastrand::Rng>,
}

/// A running provider.
#[derive(Debug, Clone)]
pub struct FlakyProvider {
    shared: Arc<Shared>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FlakyProvider {
    /// Starts the provider on `127.0.0.1:0` with a seeded randomness.
    pub async fn start(seed: u64) -> std::io::Result<Self> {
        let shared =
            Arc::new(Shared { phase: AtomicU8::new(0), rng: Mutex::new(fastrand::Rng::with_seed(seed)) });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let router = Router::new().route("/v1/chat", post(chat)).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { shared, addr })
    }

    /// Switches the provider's phase.
    pub fn set_phase(&self, phase: Phase) {
        self.shared.phase.store(phase as u8, Ordering::Relaxed);
    }

    /// The chat endpoint's URL.
    pub fn url(&self) -> String {
        format!("http://{}/v1/chat", self.addr)
    }
}

/// What one call will get.
enum Fate {
    Answer { delay_ms: u64 },
    RateLimited,
    Overloaded,
    Unavailable,
    ContextTooLong,
}

fn fate(shared: &Shared, req: &ChatRequest) -> Fate {
    let phase = shared.phase.load(Ordering::Relaxed);
    let roll = shared.rng.lock().map(|mut r| r.u32(0..100)).unwrap_or(0);
    let slow = if roll.is_multiple_of(7) { 150 + u64::from(roll) * 3 } else { 5 + u64::from(roll % 20) };
    match (phase, req.model.as_str()) {
        (2, "gpt-4") | (1, "gpt-4") => Fate::Overloaded,
        (2, _) => Fate::Unavailable,
        (_, "gpt-3.5") if req.max_tokens > SMALL_CONTEXT => Fate::ContextTooLong,
        (_, "gpt-4") if roll < 8 => Fate::RateLimited,
        (_, "gpt-4") if roll < 14 => Fate::Overloaded,
        (_, "claude-3") if roll < 10 => Fate::Overloaded,
        (_, m) if !MODELS.contains(&m) => Fate::Unavailable,
        _ => Fate::Answer { delay_ms: slow },
    }
}

async fn chat(State(shared): State<Arc<Shared>>, Json(req): Json<ChatRequest>) -> Response {
    match fate(&shared, &req) {
        Fate::Answer { delay_ms } => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let tokens = 40 + req.prompt.len() as u32 + req.max_tokens / 8;
            let text = format!("[{}] answer to {:?} in {} tokens", req.model, req.prompt, req.max_tokens);
            Json(json!({ "model": req.model, "text": text, "usage": { "total_tokens": tokens } }))
                .into_response()
        }
        Fate::RateLimited => rate_limited(),
        Fate::Overloaded => {
            error(StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE), "overloaded_error")
        }
        Fate::Unavailable => error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
        Fate::ContextTooLong => error(StatusCode::BAD_REQUEST, "context_length_exceeded"),
    }
}

fn error(status: StatusCode, kind: &str) -> Response {
    (status, Json(json!({ "error": { "type": kind, "message": kind } }))).into_response()
}

fn rate_limited() -> Response {
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("retry-after-ms", "300"),
        ("x-ratelimit-limit-requests", "500"),
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-reset-requests", "300ms"),
        ("x-ratelimit-limit-tokens", "90000"),
        ("x-ratelimit-remaining-tokens", "60000"),
        ("x-ratelimit-reset-tokens", "20s"),
    ] {
        headers.insert(k, HeaderValue::from_static(v));
    }
    (StatusCode::TOO_MANY_REQUESTS, headers, Json(json!({ "error": { "type": "rate_limit_exceeded" } })))
        .into_response()
}
