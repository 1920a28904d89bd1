//! The MCP probe over streamable HTTP against real rmcp servers on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::mcp_server::Counting;
use elf_resilience_core::ResourceStatus;
use elf_resilience_monitor::Probe;
use elf_resilience_monitor::probes::McpProbe;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

async fn serve(handler: Counting) -> SocketAddr {
    let config = StreamableHttpServerConfig::default()
        .with_json_response(true)
        .with_legacy_session_mode(!handler.modern);
    let service: StreamableHttpService<Counting, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(handler.clone()), Default::default(), config);
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

#[tokio::test]
async fn a_2026_server_gets_a_fresh_server_discover_each_sample() {
    let handler = Counting { modern: true, ..Counting::default() };
    let addr = serve(handler.clone()).await;
    let probe = McpProbe::http("modern", format!("http://{addr}/mcp"));
    let first = probe.sample().await.unwrap();
    assert_eq!(first.status_override, None, "{first:?}");
    assert!(
        first.detail.contains("server/discover") && first.detail.contains("2026-07-28"),
        "{}",
        first.detail
    );
    let after_first = handler.discovers.load(Ordering::SeqCst);
    probe.sample().await.unwrap();
    probe.sample().await.unwrap();
    assert_eq!(handler.discovers.load(Ordering::SeqCst), after_first + 2, "each sample reaches the server");
    assert_eq!(handler.pings.load(Ordering::SeqCst), 0, "2026-07-28 has no ping");
}

#[tokio::test]
async fn a_2025_server_gets_a_ping_each_sample() {
    let handler = Counting::default();
    let addr = serve(handler.clone()).await;
    let probe = McpProbe::http("legacy", format!("http://{addr}/mcp"));
    for n in 1..=2 {
        let sample = probe.sample().await.unwrap();
        assert!(
            sample.detail.contains("answered ping") && sample.detail.contains("2025-11-25"),
            "{}",
            sample.detail
        );
        assert_eq!(handler.pings.load(Ordering::SeqCst), n);
    }
}

#[tokio::test]
async fn a_closed_port_is_critical() {
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let probe = McpProbe::http("closed", format!("http://{addr}/mcp"));
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    assert_eq!(sample.usage_percent, 100.0);
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out() {
    let addr = crate::silent_server().await;
    let probe =
        McpProbe::http("silent", format!("http://user:pw@{addr}/mcp")).timeout(Duration::from_secs(3));
    assert!(!format!("{probe:?}").contains("pw@"));
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    assert!(sample.detail.contains("timed out after 3000 ms"), "{}", sample.detail);
}

#[tokio::test]
async fn a_closed_port_says_refused_without_sdk_type_names() {
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let sample = McpProbe::http("closed", format!("http://{addr}/mcp")).sample().await.unwrap();
    assert!(sample.detail.to_lowercase().contains("refused"), "{}", sample.detail);
    assert!(
        !sample.detail.contains("WorkerTransport") && !sample.detail.contains("Transport ["),
        "{}",
        sample.detail
    );
}

#[tokio::test]
async fn url_secrets_stay_out_of_names_details_and_reasons() {
    let handler = Counting::default();
    let addr = serve(handler.clone()).await;
    let probe = McpProbe::http("secret", format!("http://user:pass@{addr}/mcp?api_key=SECRET"));
    let up = probe.sample().await.unwrap();
    assert_eq!(up.status_override, None, "the server is reached with the query: {up:?}");
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let down = McpProbe::http("secret", format!("http://user:pass@{closed}/mcp?api_key=SECRET"));
    let failed = down.sample().await.unwrap();
    assert_eq!(failed.status_override, Some(ResourceStatus::Critical), "{failed:?}");
    for text in [probe.name().to_owned(), format!("{probe:?}"), up.detail, failed.detail, format!("{down:?}")]
    {
        assert!(!text.contains("SECRET") && !text.contains("pass"), "{text}");
    }
}
