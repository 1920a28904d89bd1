//! The MCP probe over stdio, spawning `elf-mcp-test-server` (built with the `mcp-test-server`
//! feature: `cargo test -p elf-resilience-monitor --features mcp-test-server --test probes`).
#![cfg(feature = "mcp-test-server")]

use std::path::{Path, PathBuf};
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

/// Writes `body` as a shell script into `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    path
}

/// The pids a wrapper script recorded, one a line.
fn recorded(pids: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(pids).unwrap_or_default();
    text.lines().map(|l| l.trim().parse().unwrap()).collect()
}

/// Whether `pid` still runs (a zombie left for a non-reaping init counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

/// Waits (bounded) for the kernel to finish ending `pids`; true when none is left.
async fn all_gone(pids: &[u32]) -> bool {
    for _ in 0..500 {
        if !pids.iter().any(|p| alive(*p)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// A wrapper that starts `command` as its child (the server, a grandchild of the probe),
/// records its pid and waits for it, as `sh -c`, `npx` and launcher scripts do.
fn wrapper(dir: &Path, command: &str) -> (PathBuf, PathBuf) {
    let pids = dir.join("pids");
    // A background job's stdin is /dev/null unless redirected from another descriptor.
    let body = format!("exec 3<&0\n{command} <&3 3<&- &\necho $! >> '{}'\nwait", pids.display());
    (script(dir, "wrapper.sh", &body), pids)
}

#[tokio::test]
async fn a_wrapped_server_leaves_no_process_behind_after_each_sample() {
    let dir = tempfile::tempdir().unwrap();
    let (wrapper, pids) = wrapper(dir.path(), &format!("'{SERVER}' legacy"));
    let probe = McpProbe::stdio("wrapped", "sh", [wrapper.display().to_string()]);
    for _ in 0..3 {
        let sample = probe.sample().await.unwrap();
        assert!(sample.detail.contains("answered ping"), "{}", sample.detail);
    }
    let servers = recorded(&pids);
    // A 2025 server is started twice a sample: once for `server/discover`, once for `initialize`.
    assert_eq!(servers.len(), 6, "each sample starts the server: {servers:?}");
    assert!(all_gone(&servers).await, "servers left running: {servers:?}");
}

#[tokio::test]
async fn a_sample_cut_short_still_ends_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let (wrapper, pids) = wrapper(dir.path(), "sleep 60");
    let probe =
        McpProbe::stdio("hung", "sh", [wrapper.display().to_string()]).timeout(Duration::from_secs(60));
    let sampling = probe.sample();
    let cut = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::pin!(sampling);
        loop {
            tokio::select! {
                _ = &mut sampling => panic!("a silent server cannot answer"),
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
            if !recorded(&pids).is_empty() {
                return;
            }
        }
    });
    cut.await.expect("the wrapper starts its child");
    let sleepers = recorded(&pids);
    assert!(all_gone(&sleepers).await, "the dropped sample left {sleepers:?} running");
}

#[tokio::test]
async fn a_silent_server_is_critical_after_the_configured_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let silent = script(dir.path(), "silent.sh", "exec sleep 30");
    let probe =
        McpProbe::stdio("silent", "sh", [silent.display().to_string()]).timeout(Duration::from_millis(200));
    let start = std::time::Instant::now();
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    assert!(sample.detail.contains("timed out after 200 ms"), "{}", sample.detail);
    assert!(start.elapsed() < Duration::from_secs(4), "the 200 ms timeout applies, not 5 s");
}

#[tokio::test]
async fn a_server_that_fails_at_start_shows_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let failing = script(dir.path(), "failing.sh", "echo starting >&2\necho 'boom: bad config' >&2\nexit 1");
    let probe = McpProbe::stdio("failing", "sh", [failing.display().to_string()]);
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    assert!(sample.detail.contains("boom: bad config"), "{}", sample.detail);
    assert!(!sample.detail.contains("Transport ["), "no SDK type names: {}", sample.detail);
}
