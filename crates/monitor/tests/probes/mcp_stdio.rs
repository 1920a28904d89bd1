//! The MCP probe over stdio, spawning `elf-mcp-test-server` (built with the `mcp-test-server`
//! feature: `cargo test -p elf-resilience-monitor --features mcp-test-server --test probes`).
#![cfg(feature = "mcp-test-server")]

use std::time::Duration;

use elf_resilience_core::{ResourceStatus, ResourceType};
use elf_resilience_monitor::probes::McpProbe;
use elf_resilience_monitor::{Probe, ProbeError};

const SERVER: &str = env!("CARGO_BIN_EXE_elf-mcp-test-server");

#[tokio::test]
async fn a_2026_server_answers_server_discover_every_sample() {
    let probe = McpProbe::stdio("modern", SERVER, ["modern"]);
    assert_eq!(probe.resource_type(), ResourceType::McpServer);
    for _ in 0..2 {
        let sample = probe.sample().await.unwrap();
        assert_eq!(sample.status_override, None, "{sample:?}");
        assert!(
            sample.detail.contains("server/discover") && sample.detail.contains("2026-07-28"),
            "{}",
            sample.detail
        );
        assert!(sample.metrics.iter().any(|(n, v)| n == "latency_ms" && *v >= 0.0));
    }
}

#[tokio::test]
async fn a_2025_server_answers_ping() {
    let probe = McpProbe::stdio("legacy", SERVER, ["legacy"]);
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, None, "{sample:?}");
    assert!(
        sample.detail.contains("answered ping") && sample.detail.contains("2025-11-25"),
        "{}",
        sample.detail
    );
}

#[tokio::test]
async fn a_server_that_exits_is_critical_and_a_missing_one_an_error() {
    let probe = McpProbe::stdio("gone", "true", Vec::<String>::new()).timeout(Duration::from_secs(5));
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    let missing = McpProbe::stdio("missing", "/nonexistent/mcp-server", Vec::<String>::new()).sample().await;
    assert!(matches!(missing, Err(ProbeError::Failed(ref m)) if m.contains("cannot start")), "{missing:?}");
}
