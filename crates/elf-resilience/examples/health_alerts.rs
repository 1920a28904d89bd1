//! "Monitor and Alert": route alerts by severity. A critical check turning unhealthy pages
//! (PagerDuty Events v2 shape); a degraded one posts to Slack (`#infrastructure`). Both go to
//! a local receiver started here, which prints what it gets.
//!
//! ```text
//! cargo run -p elf-resilience --example health_alerts
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use elf_resilience::{
    AlertSink, CheckOutcome, HealthCheck, HealthCheckResult, HealthMonitor, HealthStatus, PagerDutySink,
    WebhookSink,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Prints each request's path and JSON body, answers 202.
async fn start_receiver() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut len = 0;
                while let Ok(n) = stream.read(&mut buf[len..]).await {
                    len += n;
                    if n == 0 || complete(&buf[..len]) {
                        break;
                    }
                }
                let text = String::from_utf8_lossy(&buf[..len]);
                let path = text.split_whitespace().nth(1).unwrap_or("?");
                let body = text.split_once("\r\n\r\n").map_or("", |b| b.1);
                println!("receiver {path}: {body}");
                let _ = stream
                    .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Ok(url)
}

/// Whether the request's headers and `content-length` bytes of body have arrived.
fn complete(req: &[u8]) -> bool {
    let text = String::from_utf8_lossy(req);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    body.len() >= len
}

/// The seed's `health_alert`: page for a critical outage, Slack for a degradation.
async fn health_alert(result: HealthCheckResult, pagerduty: Arc<PagerDutySink>, slack: Arc<WebhookSink>) {
    let sent = if result.check_status == HealthStatus::Unhealthy && result.critical {
        pagerduty.send(&result).await
    } else if result.check_status == HealthStatus::Degraded {
        slack.send(&result).await
    } else {
        Ok(())
    };
    if let Err(e) = sent {
        eprintln!("alert for {} not delivered: {e}", result.name);
    }
}

fn switchable(name: &str, up: &Arc<AtomicBool>, bad: CheckOutcome, critical: bool) -> HealthCheck {
    let up = up.clone();
    HealthCheck::builder(name, move || {
        let outcome = if up.load(Ordering::SeqCst) { CheckOutcome::healthy("ok") } else { bad.clone() };
        async move { outcome }
    })
    .critical(critical)
    .failure_threshold(1)
    .build()
    .expect("valid check")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = start_receiver().await?;
    let pagerduty = Arc::new(PagerDutySink::new("example-routing-key").endpoint(format!("{url}/v2/enqueue")));
    let slack = Arc::new(WebhookSink::new(format!("{url}/slack")).channel("#infrastructure"));
    let monitor = HealthMonitor::new(move |r| health_alert(r, pagerduty.clone(), slack.clone()));

    let (payments_up, search_up) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicBool::new(true)));
    monitor.register_check(switchable(
        "payments",
        &payments_up,
        CheckOutcome::unhealthy("connection refused"),
        true,
    ))?;
    monitor.register_check(switchable(
        "search",
        &search_up,
        CheckOutcome::degraded("p99 latency 2.4 s"),
        false,
    ))?;

    for (payments, search) in [(true, true), (false, true), (false, false), (true, true)] {
        payments_up.store(payments, Ordering::SeqCst);
        search_up.store(search, Ordering::SeqCst);
        monitor.run_check_now("payments").await?;
        monitor.run_check_now("search").await?;
        println!("overall: {}", monitor.get_health_status(None));
    }
    monitor.alerts_idle().await;
    Ok(())
}
