//! Clients that never finish their headers: `/livez` still answers at once, they are
//! disconnected after `[server] header_timeout`, and a shutdown does not wait for them.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wire::{DEADLINE, get, start};

const SLOW: usize = 300;

/// `SLOW` connections, each having sent half a request line.
async fn half_requests(addr: std::net::SocketAddr) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /livez HT").await.unwrap();
        streams.push(s);
    }
    streams
}

/// Waits for the server to close `stream` (EOF or reset); whatever it sent first.
async fn closed(mut stream: TcpStream) -> (Instant, Vec<u8>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return (Instant::now(), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_stuck_in_their_headers_are_closed_after_the_header_timeout() {
    let timeout = Duration::from_secs(1);
    let (running, _dir) = start("header_timeout = \"1s\"", "").await;
    let addr = running.addr;
    let first = Instant::now();
    let slow = half_requests(addr).await;

    let livez = tokio::time::timeout(Duration::from_secs(1), get(addr, "/livez")).await;
    let livez = livez.expect("/livez answered within 1 s while 300 clients hold their headers");
    assert_eq!((livez.status, livez.body.as_str()), (200, "ok"));

    // And a keep-alive connection that answered once, then sends nothing.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\nok") {
        let mut buf = [0u8; 512];
        let n = idle.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering: {:?}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
    }
    let answered = Instant::now();
    let (idle_closed, _) =
        tokio::time::timeout(DEADLINE, closed(idle)).await.expect("idle connection closed");
    assert!(idle_closed.duration_since(answered) >= timeout, "idle connection closed early");

    let ends = tokio::time::timeout(DEADLINE, join_all(slow.into_iter().map(closed))).await;
    let ends = ends.expect("every slow connection closed before the deadline");
    for (at, sent) in &ends {
        assert!(at.duration_since(first) >= timeout, "closed before the header timeout");
        assert!(sent.is_empty() || sent.starts_with(b"HTTP/1.1 408"), "{:?}", String::from_utf8_lossy(sent));
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_clients_still_sending_headers() {
    let (running, _dir) = start("header_timeout = \"1h\"", "").await;
    let addr = running.addr;
    let slow = half_requests(addr).await;
    // Connections are accepted in order: once this one is answered, all the slow ones are in.
    assert_eq!(get(addr, "/livez").await.status, 200);

    let shutdown = tokio::time::timeout(Duration::from_secs(5), running.shutdown()).await;
    shutdown.expect("shutdown completed within 5 s with 300 clients mid-headers").unwrap();
    let ends = tokio::time::timeout(DEADLINE, join_all(slow.into_iter().map(closed))).await;
    assert_eq!(ends.expect("every slow connection closed by the shutdown").len(), SLOW);
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_shutdown_still_gets_its_answer() {
    let handler = "[[queue.handlers]]\nname = \"llm\"\nurl = \"http://127.0.0.1:9/replay\"\n[queue]\ninterval = \"1h\"\n";
    let (running, _dir) = start("", handler).await;
    let addr = running.addr;
    let body = "{\"handler\": \"llm\", \"payload\": {\"prompt\": \"hi\"}}";
    let (first, rest) = body.split_at(10);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/queue HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{first}",
        crate::wire::bearer(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    assert_eq!(get(addr, "/livez").await.status, 200);

    let shutdown = tokio::spawn(running.shutdown());
    let until = Instant::now() + DEADLINE;
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < until, "the listener stayed open after shutdown began");
        tokio::task::yield_now().await;
    }
    stream.write_all(rest.as_bytes()).await.unwrap();
    let answer = crate::wire::read_answer(&mut stream).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    assert!(answer.json()["ticket"].is_string());
    tokio::time::timeout(DEADLINE, shutdown).await.expect("shutdown completed").unwrap().unwrap();
}
