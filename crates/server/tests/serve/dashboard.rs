//! The dashboard in headless Chromium against a real server on loopback: every probe on its
//! resource card, health rows whose status and message agree, the demo's replay in the queue
//! panel, and a page that loads with no console errors and no failed requests.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use elf_resilience::{CheckOutcome, HealthCheck, HealthStatus, ResourceStatus, ResourceType};
use elf_resilience_server::config::Config;
use elf_resilience_server::demo::{self, DemoOptions};
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::serve::{self, Running};
use serde_json::Value;

use crate::browser::{Rendered, chromium_or_skip, render, text};

/// A server with two database probes: a SQLite file that answers and one whose path is a
/// directory, which cannot be measured (unknown); no built-in health checks.
async fn two_database_server(dir: &Path) -> Running {
    let data = dir.join("data");
    let text = format!(
        "[[probes.databases]]\nname = \"main\"\nurl = \"sqlite://{}\"\n\
         [[probes.databases]]\nname = \"replica\"\nurl = \"sqlite://{}\"\n\
         timeout = \"2s\"\n[health]\ndefault_checks = false\n\
         [storage]\ndata_dir = \"{}\"\n[server]\nbind = \"127.0.0.1:0\"\n",
        data.join("queue.db").display(),
        dir.display(),
        data.display()
    );
    let config = Config::parse(&text, Path::new("dashboard.toml")).unwrap();
    let running =
        serve::start(&config, config.server.bind(), Redactor::from_config(&config, &[])).await.unwrap();
    running.state.resources.refresh(ResourceType::Database).await;
    running
}

async fn render_async(running: &Running, dir: &Path) -> Rendered {
    let (base, dir) = (format!("http://{}", running.addr), dir.to_owned());
    tokio::task::spawn_blocking(move || render(&base, &dir)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_with_two_probes_shows_both_and_reads_the_known_one() {
    if !chromium_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let running = two_database_server(dir.path()).await;
    let db = running.state.resources.reading(ResourceType::Database, &elf_resilience::Context::new());
    assert_eq!(db.status, ResourceStatus::Healthy, "healthy + unknown reads healthy: {db:?}");
    let page = render_async(&running, dir.path()).await;
    let card = page.element("data-resource=\"database\"");
    assert!(card.contains("<span class=\"badge healthy\">healthy</span>"), "{card}");
    for (probe, status) in [("sqlite:main", "healthy"), ("sqlite:replica", "unknown")] {
        let row = page.element(&format!("data-probe=\"{probe}\""));
        let row = row.split("</li>").next().unwrap();
        assert!(row.contains(&format!("badge {status}\">{status}</span>")), "{probe} is {status}: {row}");
        assert!(row.contains("%</span>"), "{probe} shows its usage: {row}");
    }
    let replica = page.element("data-probe=\"sqlite:replica\"");
    assert!(replica.contains("probe failed"), "the unknown probe shows its reason: {replica}");
    assert!(card.contains("`sqlite:replica` unknown"), "the card's reason names the unknown probe: {card}");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_loads_with_no_console_errors_and_no_failed_requests() {
    if !chromium_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let running = two_database_server(dir.path()).await;
    let page = render_async(&running, dir.path()).await;
    assert!(page.dom.contains("id=\"updated\">updated "), "every API call answered: {}", page.dom);
    assert!(page.console.is_empty(), "console output: {:#?}", page.console);
    let failed: Vec<_> = page.responses.iter().filter(|(_, status)| *status >= 400).collect();
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    let icon = page.responses.iter().find(|(url, _)| url.contains("/favicon"));
    assert_eq!(icon.map(|(_, s)| *s), Some(200), "the icon is served: {:?}", page.responses);
    assert!(page.responses.iter().any(|(url, _)| url.ends_with("/api/resources")), "{:?}", page.responses);
    let ico = reqwest::get(format!("http://{}/favicon.ico", running.addr)).await.unwrap();
    assert_eq!(ico.status().as_u16(), 200, "browsers that ask for /favicon.ico get it too");
    running.shutdown().await.unwrap();
}

/// A check that passes on its first run and fails on every later one.
fn healthy_then_failing(runs: Arc<AtomicU32>) -> HealthCheck {
    HealthCheck::builder("spiky", move || {
        let n = runs.fetch_add(1, Ordering::SeqCst);
        async move {
            match n {
                0 => CheckOutcome::healthy("cpu healthy at 12.0 %"),
                _ => CheckOutcome::unhealthy("cpu critical at 97.9 %"),
            }
        }
    })
    .failure_threshold(3)
    .interval(Duration::from_secs(3600))
    .initial_delay(Duration::from_secs(3600))
    .build()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_health_row_shows_the_status_and_message_of_the_same_run() {
    if !chromium_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let running = two_database_server(dir.path()).await;
    let health = &running.state.health;
    health.register_check(healthy_then_failing(Arc::new(AtomicU32::new(0)))).unwrap();
    health.run_check_now("spiky").await.unwrap();
    health.run_check_now("spiky").await.unwrap();
    let report = health.get_health_report();
    let spiky = &report.checks["spiky"];
    assert_eq!(spiky.status, HealthStatus::Healthy, "one failure of three: still healthy");
    assert_eq!(spiky.message, "cpu critical at 97.9 %", "the last run's message");
    let page = render_async(&running, dir.path()).await;
    let row = page.dom.split("<td>spiky</td>").nth(1).expect("a row for the check");
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains("<span class=\"badge healthy\">healthy</span>"), "status after hysteresis: {row}");
    assert_eq!(
        text(row).split(" no ").nth(1).and_then(|r| r.split(" (").next()),
        Some("last run unhealthy cpu critical at 97.9 %"),
        "the message comes with the status of its own run: {row}"
    );
    assert!(text(row).contains("(healthy held by hysteresis)"), "{row}");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_panel_counts_the_demos_replay() {
    if !chromium_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[health]\ndefault_checks = false\n[storage]\ndata_dir = \"{}\"\n[server]\nbind = \"127.0.0.1:0\"\n",
        dir.path().join("data").display()
    );
    let config = Config::parse(&text, Path::new("demo.toml")).unwrap();
    let opts = DemoOptions { requests: 8, serve: true, seed: 3 };
    let played = demo::play(&config, opts, Redactor::default()).await.unwrap();
    assert!(played.replayed.delivered > 0, "the demo queued and replayed requests: {:?}", played.replayed);
    let running = played.server.expect("--serve keeps a server");
    let queue: Value =
        reqwest::get(format!("http://{}/api/queue", running.addr)).await.unwrap().json().await.unwrap();
    let totals = &queue["worker"]["totals"];
    assert_eq!(totals["succeeded"], played.replayed.delivered as u64, "{queue}");
    assert_eq!(queue["worker"]["in_process"], serde_json::json!(["chat"]), "{queue}");
    let page = render_async(&running, dir.path()).await;
    let panel = page.element("id=\"queue-worker\"");
    let panel = panel.split("</div>").next().unwrap();
    assert!(panel.contains("replay: chat (in process)"), "{panel}");
    assert!(panel.contains(&format!("succeeded: {}", played.replayed.delivered)), "{panel}");
    assert!(panel.contains(&format!("delivered: {}", totals["delivered"])), "{panel}");
    assert!(!panel.contains("delivered: 0<"), "{panel}");
    running.shutdown().await.unwrap();
    played.resources.stop();
}
