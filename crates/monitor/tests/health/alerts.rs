//! Alert sinks against a real HTTP receiver on 127.0.0.1: Slack-shaped webhooks, PagerDuty
//! Events v2, retries with backoff, and checks that never wait on a failing sink.
//!
//! These tests use real time (sockets do not mix with paused time), with millisecond
//! backoffs; nothing sleeps: each test waits for the monitor's alert queues to drain.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_monitor::{
    AlertError, AlertRetry, AlertSink, HealthCheck, HealthCheckResult, HealthMonitor, HealthStatus, LogSink,
    PagerDutySink, WebhookSink,
};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A tiny HTTP/1.1 receiver: records each JSON body, answers with scripted statuses (then 200).
#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<(String, Value)>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> (String, Self) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let rx =
            Self { bodies: Arc::default(), script: Arc::new(Mutex::new(script.into_iter().rev().collect())) };
        let server = rx.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(stream));
            }
        });
        (url, rx)
    }

    async fn serve(self, mut stream: TcpStream) {
        let Some((path, body)) = read_request(&mut stream).await else { return };
        let status = self.script.lock().unwrap().pop().unwrap_or(200);
        self.bodies.lock().unwrap().push((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
        let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}");
        let _ = stream.write_all(reply.as_bytes()).await;
    }

    fn bodies(&self) -> Vec<(String, Value)> {
        self.bodies.lock().unwrap().clone()
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let path = head.split_whitespace().nth(1)?.to_owned();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while buf.len() < header_end + len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((path, buf[header_end..header_end + len].to_vec()))
}

fn fast_retry(max_attempts: u32) -> AlertRetry {
    AlertRetry { max_attempts, base: Duration::from_millis(5), max_delay: Duration::from_millis(20) }
}

fn toggled(name: &str, up: &Arc<AtomicBool>, critical: bool) -> HealthCheck {
    let up = up.clone();
    HealthCheck::builder(name, move || {
        let ok = up.load(Ordering::SeqCst);
        async move { ok }
    })
    .critical(critical)
    .failure_threshold(1)
    .build()
    .unwrap()
}

#[tokio::test]
async fn webhook_posts_slack_text_on_each_transition() {
    let (url, rx) = Receiver::start(vec![]).await;
    let sink = WebhookSink::new(format!("{url}/hooks/slack")).channel("#infrastructure");
    let monitor = HealthMonitor::builder().sink(sink).sink(LogSink).alert_retry(fast_retry(3)).build();
    let up = Arc::new(AtomicBool::new(true));
    monitor.register_check(toggled("search", &up, false)).unwrap();
    for state in [true, false, false, true] {
        up.store(state, Ordering::SeqCst);
        monitor.run_check_now("search").await.unwrap();
    }
    monitor.alerts_idle().await;
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[0].0, "/hooks/slack");
    assert_eq!(bodies[0].1["text"], "search is unhealthy (was healthy): check failed");
    assert_eq!(bodies[0].1["channel"], "#infrastructure");
    assert_eq!(bodies[0].1["reason"], "transition");
    assert_eq!(bodies[1].1["text"], "search is healthy (was unhealthy): check passed");
}

#[tokio::test]
async fn pagerduty_triggers_then_resolves_with_one_dedup_key() {
    let (url, rx) = Receiver::start(vec![]).await;
    let sink = PagerDutySink::new("R0UT1NG").source("api-1").endpoint(format!("{url}/v2/enqueue"));
    let monitor = HealthMonitor::builder().sink(sink).alert_retry(fast_retry(3)).build();
    let up = Arc::new(AtomicBool::new(false));
    monitor.register_check(toggled("db", &up, true)).unwrap();
    monitor.run_check_now("db").await.unwrap();
    up.store(true, Ordering::SeqCst);
    monitor.run_check_now("db").await.unwrap();
    monitor.alerts_idle().await;
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let (trigger, resolve) = (&bodies[0].1, &bodies[1].1);
    assert_eq!(trigger["routing_key"], "R0UT1NG");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "api-1");
    assert_eq!(trigger["payload"]["summary"], "db is unhealthy (was unknown): check failed");
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(trigger["dedup_key"], resolve["dedup_key"]);
}

#[tokio::test]
async fn failing_receiver_is_retried_with_backoff() {
    let (url, rx) = Receiver::start(vec![500, 503]).await;
    let monitor = HealthMonitor::builder().sink(WebhookSink::new(url)).alert_retry(fast_retry(5)).build();
    let up = Arc::new(AtomicBool::new(false));
    monitor.register_check(toggled("queue", &up, true)).unwrap();
    monitor.run_check_now("queue").await.unwrap();
    monitor.alerts_idle().await;
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 3, "two failures, then delivered");
    assert!(bodies.iter().all(|b| b.1["text"] == bodies[0].1["text"]));
}

#[tokio::test]
async fn unreachable_receiver_is_given_up_after_max_attempts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let monitor = HealthMonitor::builder().sink(WebhookSink::new(dead)).alert_retry(fast_retry(3)).build();
    let up = Arc::new(AtomicBool::new(false));
    monitor.register_check(toggled("svc", &up, true)).unwrap();
    monitor.run_check_now("svc").await.unwrap();
    monitor.alerts_idle().await;
    assert_eq!(monitor.get_health_status(Some("svc")), HealthStatus::Unhealthy);
}

/// A sink that never finishes: stands for a receiver that hangs.
#[derive(Debug, Default)]
struct StuckSink {
    calls: AtomicUsize,
}

impl AlertSink for StuckSink {
    fn name(&self) -> &str {
        "stuck"
    }
    fn send<'a>(&'a self, _: &'a HealthCheckResult) -> BoxFuture<'a, Result<(), AlertError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        futures_util::future::pending().boxed()
    }
}

#[tokio::test(start_paused = true)]
async fn stuck_sink_never_holds_up_checks() {
    let stuck = Arc::new(StuckSink::default());
    let alerts = Arc::new(AtomicUsize::new(0));
    let counted = alerts.clone();
    let monitor = HealthMonitor::builder()
        .shared_sink(stuck.clone())
        .alert_callback(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            async {}
        })
        .alert_queue_capacity(2)
        .build();
    let up = Arc::new(AtomicBool::new(true));
    monitor.register_check(toggled("svc", &up, true)).unwrap();
    for i in 0..6 {
        up.store(i % 2 == 1, Ordering::SeqCst);
        monitor.run_check_now("svc").await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(monitor.get_health_report().checks["svc"].history.len(), 6);
    assert_eq!(stuck.calls.load(Ordering::SeqCst), 1, "stuck on its first alert");
    assert_eq!(alerts.load(Ordering::SeqCst), 6, "the other sink got every alert");
}
