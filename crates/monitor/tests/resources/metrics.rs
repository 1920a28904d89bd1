//! The metrics the samplers set, seen through a local debugging recorder: per-probe usage, up
//! and latency, failures, and endpoint downs counted by network and MCP probes under their own
//! names.

use std::collections::HashMap;
use std::time::Duration;

use elf_resilience_core::{ResourceStatus, ResourceType, TokioClock};
use elf_resilience_monitor::{BoxFuture, Probe, ProbeError, ResourceManager, Sample};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// A probe that always answers the same, after `delay`.
#[derive(Debug)]
struct Fixed {
    kind: ResourceType,
    name: &'static str,
    answer: Result<Sample, ProbeError>,
    delay: Duration,
}

impl Probe for Fixed {
    fn resource_type(&self) -> ResourceType {
        self.kind
    }
    fn name(&self) -> &str {
        self.name
    }
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.answer.clone()
        })
    }
}

fn fixed(kind: ResourceType, name: &'static str, answer: Result<Sample, ProbeError>, ms: u64) -> Fixed {
    Fixed { kind, name, answer, delay: Duration::from_millis(ms) }
}

/// Every metric as `name{label=value,...}` (labels sorted) → value.
fn snapshot(snapshotter: &Snapshotter) -> HashMap<String, DebugValue> {
    let mut out = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let mut labels: Vec<String> =
            key.key().labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        labels.sort();
        out.insert(format!("{}{{{}}}", key.key().name(), labels.join(",")), value);
    }
    out
}

fn gauge(m: &HashMap<String, DebugValue>, id: &str) -> f64 {
    match m.get(id) {
        Some(DebugValue::Gauge(v)) => v.into_inner(),
        other => panic!("{id}: {other:?} in {:?}", m.keys()),
    }
}

fn counter(m: &HashMap<String, DebugValue>, id: &str) -> u64 {
    match m.get(id) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{id}: {other:?} in {:?}", m.keys()),
    }
}

#[test]
fn probes_report_usage_up_latency_and_downs_under_their_own_names() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    let down = || Ok(Sample::new(100.0, "gone").with_status(ResourceStatus::Critical));
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let rm = ResourceManager::builder()
                .clock(TokioClock::shared())
                .probe(fixed(ResourceType::Network, "tcp:gone", down(), 250))
                .probe(fixed(ResourceType::McpServer, "mcp:files", down(), 0))
                .probe(fixed(ResourceType::Cpu, "host", Ok(Sample::new(101.6, "busy")), 0))
                .probe(fixed(ResourceType::Memory, "host", Err(ProbeError::Failed("no".into())), 0))
                .build()
                .unwrap();
            rm.refresh_all().await;
        });
    });
    let m = snapshot(&snapshotter);
    assert_eq!(counter(&m, "elf_network_probe_down_total{probe=tcp:gone}"), 1);
    assert_eq!(counter(&m, "elf_mcp_probe_down_total{probe=mcp:files}"), 1);
    let network_downs: Vec<_> = m.keys().filter(|k| k.starts_with("elf_network_probe_down_total")).collect();
    assert_eq!(network_downs.len(), 1, "an MCP probe's downs are not network downs: {network_downs:?}");
    assert_eq!(gauge(&m, "elf_probe_up{probe=tcp:gone,resource=network}"), 0.0);
    assert_eq!(gauge(&m, "elf_probe_up{probe=mcp:files,resource=mcp_server}"), 0.0);
    assert_eq!(gauge(&m, "elf_probe_up{probe=host,resource=cpu}"), 1.0);
    assert_eq!(gauge(&m, "elf_probe_up{probe=host,resource=memory}"), 0.0);
    assert_eq!(gauge(&m, "elf_probe_usage_ratio{probe=host,resource=cpu}"), 1.0, "clamped to 0..=1");
    assert_eq!(gauge(&m, "elf_probe_latency_seconds{probe=tcp:gone,resource=network}"), 0.25);
    assert_eq!(gauge(&m, "elf_probe_latency_seconds{probe=host,resource=cpu}"), 0.0);
    assert_eq!(counter(&m, "elf_resource_probe_failures_total{probe=host,resource=memory}"), 1);
    assert!(
        !m.keys().any(|k| k.starts_with("elf_resource_usage_ratio")),
        "per-probe usage has its own name; the aggregate is the server's"
    );
}
