//! What a request may carry, on a real socket: bodies over `[server] max_body_bytes` (declared
//! or chunked) get 413 unread, malformed JSON 400, a wrong content type 415, a slow body 408,
//! unknown and traversal paths 404, all with `{"error": ...}`; writes need the token; CORS is
//! off unless origins are listed.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::wire::{Answer, bearer, get, read_answer, request, send, start};

const LIMITS: &str = "max_body_bytes = 1024\nbody_timeout = \"1s\"";
const HANDLER: &str = "[[queue.handlers]]\nname = \"llm\"\nurl = \"http://127.0.0.1:9/replay\"\n\
                       [queue]\ninterval = \"1h\"\n";
const JSON: &str = "Content-Type: application/json";

fn assert_error(answer: &Answer, status: u16, needle: &str) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert!(answer.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{answer:?}");
    let error = answer.json()["error"].as_str().unwrap_or_default().to_owned();
    assert!(error.contains(needle), "{needle:?} not in {error:?}");
}

/// `POST /api/queue` with the token and `body`.
async fn enqueue(addr: std::net::SocketAddr, body: &str) -> Answer {
    send(addr, &request("POST", "/api/queue", &[&bearer(), JSON], body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_without_being_read() {
    let (running, _dir) = start(LIMITS, HANDLER).await;
    let addr = running.addr;
    // Declares 100 MB, sends 10 bytes: the answer comes without the rest.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/queue HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\n{JSON}\r\nContent-Length: 100000000\r\n\r\n{{\"handler\"",
        bearer()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    assert_error(&read_answer(&mut stream).await, 413, "max_body_bytes");

    // Chunked, no length: refused once 1024 bytes have come, the final chunk never sent.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/queue HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\n{JSON}\r\nTransfer-Encoding: chunked\r\n\r\n",
        bearer()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..3 {
        stream.write_all(format!("258\r\n{}\r\n", " ".repeat(600)).as_bytes()).await.unwrap();
    }
    assert_error(&read_answer(&mut stream).await, 413, "1024 bytes");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_wrong_types_and_slow_bodies_get_json_errors() {
    let (running, _dir) = start(LIMITS, HANDLER).await;
    let addr = running.addr;
    assert_error(&enqueue(addr, "{\"handler\": ").await, 400, "invalid JSON body");
    assert_error(&enqueue(addr, "{\"handler\": \"llm\"}").await, 400, "missing field `payload`");
    assert_error(
        &enqueue(addr, "{\"handler\": \"llm\", \"payload\": 1, \"extra\": 2}").await,
        400,
        "unknown field",
    );
    let body = "{\"handler\": \"llm\", \"payload\": {}}";
    let plain =
        send(addr, &request("POST", "/api/queue", &[&bearer(), "Content-Type: text/plain"], body)).await;
    assert_error(&plain, 415, "application/json");
    assert_error(&send(addr, &request("POST", "/api/queue", &[&bearer()], body)).await, 415, "Content-Type");

    // 50 bytes declared, 10 sent, the rest never: 408 after `body_timeout`.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/queue HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\n{JSON}\r\nContent-Length: 50\r\n\r\n{{\"handler\"",
        bearer()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    assert_error(&read_answer(&mut stream).await, 408, "body_timeout");
    assert!(started.elapsed() >= Duration::from_millis(900), "answered before the body timeout");

    // A query string the endpoint cannot read: axum's rejection, as JSON.
    let dup = "/api/breakers/x/trip?owner=a&owner=b";
    assert_error(&send(addr, &request("POST", dup, &[&bearer()], "")).await, 400, "owner");
    assert_error(&get(addr, "/api/breakers/x/trip").await, 405, "method not allowed");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_traversal_paths_are_404_json_never_a_file() {
    let (running, _dir) = start("", "").await;
    let addr = running.addr;
    let paths = [
        "/nope",
        "/../Cargo.toml",
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/favicon.ico/../../Cargo.toml",
        "/favicon.svg/..%2f..%2fCargo.toml",
        "/favicon.%2e%2e/etc/passwd",
        "/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
        "/api/../../etc/passwd",
    ];
    for path in paths {
        let answer = get(addr, path).await;
        assert_error(&answer, 404, "not found");
        assert!(!answer.body.contains("root:") && !answer.body.contains("[package]"), "{path}: {answer:?}");
    }
    assert_eq!(get(addr, "/favicon.ico").await.status, 200, "the icon itself is still served");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_the_token_whatever_their_body() {
    let (running, _dir) = start(LIMITS, HANDLER).await;
    let addr = running.addr;
    let writes = [
        request("POST", "/api/queue", &[JSON], "{\"handler\": \"llm\", \"payload\": {}}"),
        request("POST", "/api/queue", &[JSON], "{not json"),
        request("POST", "/api/queue", &["Authorization: Bearer wrong-token-0123456789", JSON], "{}"),
        request("POST", "/api/queue/t-1/requeue", &[], ""),
        request("DELETE", "/api/queue/t-1", &[], ""),
        request("POST", "/api/breakers/x/trip", &[], ""),
    ];
    for raw in writes {
        let answer = send(addr, &raw).await;
        assert_error(&answer, 401, "bearer token");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_queued_requeued_and_dropped_over_http() {
    let (running, _dir) = start(LIMITS, HANDLER).await;
    let addr = running.addr;
    let created =
        enqueue(addr, "{\"handler\": \"llm\", \"payload\": {\"prompt\": \"hi\"}, \"max_attempts\": 2}").await;
    assert_eq!(created.status, 201, "{created:?}");
    let ticket = created.json()["ticket"].as_str().unwrap().to_owned();
    assert!(
        running
            .state
            .queue
            .list(None, 10)
            .unwrap()
            .iter()
            .any(|r| r.ticket.0 == ticket && r.max_attempts == 2)
    );

    assert_error(&enqueue(addr, "{\"handler\": \"nope\", \"payload\": 1}").await, 400, "configured: llm");
    assert_error(
        &enqueue(addr, "{\"handler\": \"llm\", \"payload\": 1, \"max_attempts\": 0}").await,
        400,
        "at least 1",
    );

    let requeue = format!("/api/queue/{ticket}/requeue");
    let answer = send(addr, &request("POST", &requeue, &[&bearer()], "")).await;
    assert_eq!((answer.status, answer.json()["ticket"].as_str()), (200, Some(ticket.as_str())), "{answer:?}");
    let drop = format!("/api/queue/{ticket}");
    assert_eq!(send(addr, &request("DELETE", &drop, &[&bearer()], "")).await.status, 200);
    assert!(running.state.queue.list(None, 10).unwrap().iter().all(|r| r.ticket.0 != ticket));
    assert_error(&send(addr, &request("DELETE", &drop, &[&bearer()], "")).await, 404, &ticket);
    assert_error(&send(addr, &request("POST", &requeue, &[&bearer()], "")).await, 404, &ticket);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_headers_only_for_listed_origins() {
    let preflight = |origin: &str| {
        request(
            "OPTIONS",
            "/api/queue",
            &[
                &format!("Origin: {origin}"),
                "Access-Control-Request-Method: POST",
                "Access-Control-Request-Headers: authorization, content-type",
            ],
            "",
        )
    };
    let (off, _dir) = start("", "").await;
    let answer = send(off.addr, &request("GET", "/livez", &["Origin: https://app.example.com"], "")).await;
    assert_eq!(answer.header("access-control-allow-origin"), None, "CORS is off by default");
    assert_eq!(
        send(off.addr, &preflight("https://app.example.com")).await.header("access-control-allow-origin"),
        None
    );
    off.shutdown().await.unwrap();

    let (on, _dir) = start("cors_origins = [\"https://app.example.com\"]", "").await;
    let listed = send(on.addr, &preflight("https://app.example.com")).await;
    assert_eq!(listed.header("access-control-allow-origin"), Some("https://app.example.com"), "{listed:?}");
    assert!(listed.header("access-control-allow-headers").is_some_and(|h| h.contains("authorization")));
    let other = send(on.addr, &preflight("https://evil.example")).await;
    assert_eq!(other.header("access-control-allow-origin"), None, "{other:?}");
    let get = send(on.addr, &request("GET", "/livez", &["Origin: https://app.example.com"], "")).await;
    assert_eq!(get.header("access-control-allow-origin"), Some("https://app.example.com"));
    on.shutdown().await.unwrap();
}
