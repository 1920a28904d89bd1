//! TCP and HTTP probes against real servers on 127.0.0.1: healthy, failing, closed and silent.

use std::net::SocketAddr;
use std::time::Duration;

use elf_resilience_core::{ResourceStatus, ResourceType};
use elf_resilience_monitor::Probe;
use elf_resilience_monitor::probes::{HttpProbe, HttpProbeError, TcpProbe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves every connection with `response` after reading the request head.
async fn http_server(response: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    addr
}

/// A port nothing listens on.
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
const FAIL: &str = "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const MISSING: &str = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

fn metric(sample: &elf_resilience_monitor::Sample, name: &str) -> Option<f64> {
    sample.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

#[tokio::test]
async fn a_healthy_server_answers_200_with_a_latency() {
    let addr = http_server(OK).await;
    let probe = HttpProbe::new("ok", &format!("http://{addr}/health")).unwrap();
    assert_eq!((probe.resource_type(), probe.name()), (ResourceType::Network, "http:ok"));
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, None);
    assert_eq!(metric(&sample, "status_code"), Some(200.0));
    assert!(metric(&sample, "latency_ms").unwrap() >= 0.0);
    assert!(sample.usage_percent < 100.0, "{sample:?}");
    assert!(sample.detail.contains("200"), "{}", sample.detail);
}

#[tokio::test]
async fn a_500_is_critical_and_a_404_a_warning() {
    let probe = HttpProbe::new("fail", &format!("http://{}/", http_server(FAIL).await)).unwrap();
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical));
    assert_eq!((sample.usage_percent, metric(&sample, "status_code")), (100.0, Some(500.0)));
    let probe = HttpProbe::new("missing", &format!("http://{}/", http_server(MISSING).await)).unwrap();
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Warning));
}

#[tokio::test]
async fn a_closed_port_is_critical_for_both_probes() {
    let addr = closed_port().await;
    let http = HttpProbe::new("closed", &format!("http://{addr}/")).unwrap().sample().await.unwrap();
    assert_eq!(http.status_override, Some(ResourceStatus::Critical), "{http:?}");
    assert!(http.detail.contains("cannot connect"), "{}", http.detail);
    let tcp = TcpProbe::new("closed", addr.to_string()).sample().await.unwrap();
    assert_eq!(tcp.status_override, Some(ResourceStatus::Critical), "{tcp:?}");
}

#[tokio::test]
async fn tcp_connects_to_a_listener() {
    let addr = crate::silent_server().await;
    let sample = TcpProbe::new("up", addr.to_string()).sample().await.unwrap();
    assert_eq!(sample.status_override, None, "{sample:?}");
    assert!(metric(&sample, "latency_ms").is_some());
    let err = TcpProbe::new("bad", "127.0.0.1:not-a-port").sample().await.unwrap_err();
    assert!(err.to_string().contains("cannot resolve 127.0.0.1:not-a-port"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out() {
    let addr = crate::silent_server().await;
    let probe =
        HttpProbe::with_timeout("silent", &format!("http://{addr}/"), Duration::from_secs(2)).unwrap();
    let start = tokio::time::Instant::now();
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    assert!(sample.detail.contains("no answer within 2s"), "{}", sample.detail);
    assert_eq!(start.elapsed(), Duration::from_secs(2), "paused time moved exactly to the timeout");
}

#[test]
fn urls_are_checked_and_secrets_hidden() {
    assert!(matches!(HttpProbe::new("x", "not a url"), Err(HttpProbeError::InvalidUrl(_))));
    assert!(matches!(HttpProbe::new("x", "https://example.com/"), Err(HttpProbeError::InvalidUrl(_))));
    let probe = HttpProbe::new("x", "http://admin:hunter2@127.0.0.1:1/h?token=abc").unwrap();
    let shown = format!("{probe:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("abc") && !shown.contains("admin"), "{shown}");
}
