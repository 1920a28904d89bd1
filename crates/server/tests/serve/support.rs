//! Pieces shared by the server's integration tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use axum::http::StatusCode;
use serde_json::Value;
use tokio::sync::mpsc;

/// A loopback queue handler answering every POST to `/replay` with the status held in the
/// returned cell (`status` at first), forwarding each JSON body it receives.
#[allow(dead_code)]
/// One request the receiver got: its JSON body and its delivery headers.
#[derive(Debug)]
pub struct Received {
    pub body: Value,
    pub idempotency_key: Option<String>,
    pub attempt: Option<String>,
}

pub async fn receiver(status: u16) -> (SocketAddr, mpsc::UnboundedReceiver<Received>, Arc<AtomicU16>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let code = Arc::new(AtomicU16::new(status));
    let answer = code.clone();
    let app = axum::Router::new().route(
        "/replay",
        axum::routing::post(move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
            let (tx, answer) = (tx.clone(), answer.clone());
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let (idempotency_key, attempt) = (header("idempotency-key"), header("elf-delivery-attempt"));
            async move {
                let _ = tx.send(Received { body, idempotency_key, attempt });
                (StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap(), "{\"ok\":true}")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx, code)
}

/// A GET request with no body.
#[allow(dead_code)] // not every test crate sends requests
pub fn get(path: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap()
}

/// A POST request with no body, with a bearer token when one is given.
#[allow(dead_code)]
pub fn post(path: &str, token: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let b = axum::http::Request::post(path);
    let b = match token {
        Some(t) => b.header(axum::http::header::AUTHORIZATION, format!("Bearer {t}")),
        None => b,
    };
    b.body(axum::body::Body::empty()).unwrap()
}
