//! An alert webhook that accepts and never answers: each POST ends at the configured
//! `[[alerts]] timeout`, the failure is counted once the retries are spent, checks and the HTTP
//! server go on meanwhile, and a later alert goes out once the receiver answers again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use elf_resilience::HealthStatus;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::support::{check_until, config, eventually, livez_is_fast, reported, serve};

/// The receiver and the service the check watches, on one loopback server.
struct Upstream {
    addr: SocketAddr,
    /// While set, `/hook` takes the request and never answers.
    hang: Arc<AtomicBool>,
    /// What `/status` answers.
    status: Arc<AtomicU16>,
    alerts: mpsc::UnboundedReceiver<Value>,
}

async fn upstream() -> Upstream {
    let (hang, status) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicU16::new(200)));
    let (tx, alerts) = mpsc::unbounded_channel();
    let (hanging, code) = (hang.clone(), status.clone());
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let (hanging, tx) = (hanging.clone(), tx.clone());
                async move {
                    if hanging.load(Ordering::SeqCst) {
                        std::future::pending::<()>().await;
                    }
                    let _ = tx.send(body);
                    StatusCode::OK
                }
            }),
        )
        .route(
            "/status",
            axum::routing::get(move || {
                let code = code.clone();
                async move { StatusCode::from_u16(code.load(Ordering::SeqCst)).unwrap() }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Upstream { addr, hang, status, alerts }
}

/// `elf_health_alerts_total{outcome="failed"}` on `/metrics` (0 before the first).
async fn failed_alerts(addr: SocketAddr) -> u64 {
    let text = reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("elf_health_alerts_total{outcome=\"failed\"} "))
        .map_or(0, |v| v.trim().parse::<f64>().unwrap() as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_never_answers_times_out_is_counted_and_holds_up_nothing() {
    let mut up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[health]\ndefault_checks = false\n[[health.checks]]\nname = \"upstream\"\nkind = \"http\"\n\
         target = \"http://{0}/status\"\ninterval = \"1h\"\n\
         [[alerts]]\nkind = \"webhook\"\nurl = \"http://{0}/hook\"\ntimeout = \"200ms\"\n",
        up.addr
    );
    let (config, _) = config(dir.path(), &dir.path().join("data"), &extra);
    let running = serve(&config).await;
    check_until(&running, "upstream", HealthStatus::Healthy).await;
    let failed_before = failed_alerts(running.addr).await;

    up.status.store(500, Ordering::SeqCst);
    check_until(&running, "upstream", HealthStatus::Unhealthy).await;
    // The alert hangs in its lane; checks and the server do not wait for it.
    for _ in 0..3 {
        let r = running.state.health.run_check_now("upstream").await.unwrap();
        assert!(r.duration < Duration::from_millis(500), "a check waited {:?}", r.duration);
        livez_is_fast(running.addr).await;
    }
    let started = Instant::now();
    let (code, health, _) = reported(running.addr, "upstream").await;
    assert_eq!(code, 503, "{health}");
    assert!(started.elapsed() < Duration::from_millis(500), "/health waited {:?}", started.elapsed());

    // 5 tries of 200 ms with 0.5 + 1 + 2 + 4 s between them: given up within about 9 s.
    let given_up = Instant::now();
    eventually("the hung alert is given up and counted", || async {
        (failed_alerts(running.addr).await > failed_before).then_some(())
    })
    .await;
    assert!(given_up.elapsed() < Duration::from_secs(15), "given up after {:?}", given_up.elapsed());

    up.hang.store(false, Ordering::SeqCst);
    up.status.store(200, Ordering::SeqCst);
    check_until(&running, "upstream", HealthStatus::Healthy).await;
    let later = tokio::time::timeout(crate::support::DEADLINE, up.alerts.recv()).await;
    let later = later.expect("the recovery alert arrives").unwrap();
    assert!(later.to_string().contains("upstream"), "{later}");
    running.shutdown().await.unwrap();
}
