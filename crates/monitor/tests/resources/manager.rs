//! The resource manager over scripted probes: thresholds, failures, timeouts, staleness,
//! selection by tag, alternatives, usage and reports.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_core::{Context, ManualClock, ResourceGate, ResourceStatus, ResourceType, TokioClock};
use elf_resilience_monitor::{
    BoxFuture, Probe, ProbeError, QuotaSource, ResourceManager, ResourceManagerError, Sample,
};

/// A probe whose next answer (and delay) the test sets.
#[derive(Debug, Clone)]
struct Scripted {
    kind: ResourceType,
    name: String,
    answer: Arc<Mutex<Result<Sample, ProbeError>>>,
    delay: Arc<Mutex<Duration>>,
    calls: Arc<Mutex<u32>>,
}

impl Scripted {
    fn new(kind: ResourceType, name: &str, usage: f64) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            answer: Arc::new(Mutex::new(Ok(Sample::new(usage, "scripted")))),
            delay: Arc::new(Mutex::new(Duration::ZERO)),
            calls: Arc::new(Mutex::new(0)),
        }
    }
    fn set(&self, answer: Result<Sample, ProbeError>) {
        *self.answer.lock().unwrap() = answer;
    }
    fn usage(&self, usage: f64) {
        self.set(Ok(Sample::new(usage, "scripted")));
    }
}

impl Probe for Scripted {
    fn resource_type(&self) -> ResourceType {
        self.kind
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(async move {
            *self.calls.lock().unwrap() += 1;
            let delay = *self.delay.lock().unwrap();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            self.answer.lock().unwrap().clone()
        })
    }
}

/// A quota source with fixed percentages per model, recording what it is given.
#[derive(Debug, Default)]
struct Quotas {
    per_model: HashMap<String, f64>,
    recorded: Mutex<Vec<(f64, Option<String>)>>,
}

impl QuotaSource for Quotas {
    fn usage_percent(&self, ctx: &Context) -> Option<f64> {
        self.per_model.get(ctx.model.as_deref()?).copied()
    }
    fn record(&self, amount: f64, ctx: &Context) {
        self.recorded.lock().unwrap().push((amount, ctx.team_name.clone()));
    }
}

const CPU: ResourceType = ResourceType::Cpu;
const NET: ResourceType = ResourceType::Network;

#[tokio::test]
async fn thresholds_turn_usage_into_statuses() {
    let probe = Scripted::new(CPU, "host", 10.0);
    let rm = ResourceManager::builder().thresholds(CPU, 85.0, 98.0).probe(probe.clone()).build().unwrap();
    let ctx = Context::new();
    assert_eq!(rm.check_resource(CPU, &ctx), (ResourceStatus::Unknown, 0.0));
    for (usage, want) in [
        (10.0, ResourceStatus::Healthy),
        (85.0, ResourceStatus::Warning),
        (98.5, ResourceStatus::Critical),
        (100.0, ResourceStatus::Exhausted),
    ] {
        probe.usage(usage);
        rm.refresh(CPU).await;
        assert_eq!(rm.check_resource(CPU, &ctx), (want, usage));
    }
    assert!(!rm.can_use_resource(CPU));
}

#[test]
fn invalid_config_is_rejected_at_build() {
    let err = ResourceManager::builder().thresholds(CPU, 90.0, 90.0).build().unwrap_err();
    assert!(matches!(err, ResourceManagerError::InvalidThresholds { resource_type: CPU, .. }));
    let err = ResourceManager::builder().critical_threshold(CPU, 120.0).build().unwrap_err();
    assert!(err.to_string().contains("0 <= warning < critical <= 100"));
    let dup = ResourceManager::builder()
        .probe(Scripted::new(CPU, "a", 1.0))
        .probe(Scripted::new(CPU, "a", 1.0))
        .build();
    assert!(matches!(dup, Err(ResourceManagerError::DuplicateProbe { .. })));
    let zero = ResourceManager::builder()
        .probe_every(Scripted::new(CPU, "a", 1.0), Duration::ZERO, Duration::from_secs(1))
        .build();
    assert!(matches!(zero, Err(ResourceManagerError::InvalidSchedule { .. })));
}

#[tokio::test]
async fn failing_probe_reads_unknown_with_reason_not_stale_healthy() {
    let probe = Scripted::new(CPU, "host", 10.0);
    let rm = ResourceManager::builder().probe(probe.clone()).build().unwrap();
    rm.refresh(CPU).await;
    assert_eq!(rm.check_resource(CPU, &Context::new()).0, ResourceStatus::Healthy);
    probe.set(Err(ProbeError::Failed("connection refused".into())));
    rm.refresh(CPU).await;
    let reading = rm.reading(CPU, &Context::new());
    assert_eq!(reading.status, ResourceStatus::Unknown);
    assert_eq!(reading.reason.as_deref(), Some("probe failed: connection refused"));
    let gate = ResourceGate::check(&rm, CPU, &Context::new());
    assert_eq!(gate.reason.as_deref(), Some("probe failed: connection refused"));
}

#[derive(Debug)]
struct Panicking;

impl Probe for Panicking {
    fn resource_type(&self) -> ResourceType {
        ResourceType::Database
    }
    fn name(&self) -> &str {
        "broken"
    }
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(async { panic!("driver bug") })
    }
}

#[tokio::test]
async fn panicking_probe_reads_unknown_and_the_caller_survives() {
    let rm = ResourceManager::builder().probe(Panicking).build().unwrap();
    rm.refresh(ResourceType::Database).await;
    let reading = rm.reading(ResourceType::Database, &Context::new());
    assert_eq!(reading.status, ResourceStatus::Unknown);
    assert_eq!(reading.reason.as_deref(), Some("probe failed: the probe panicked"));
}

#[tokio::test(start_paused = true)]
async fn slow_probe_times_out_to_unknown() {
    let probe = Scripted::new(CPU, "slow", 10.0);
    *probe.delay.lock().unwrap() = Duration::from_secs(10);
    let rm = ResourceManager::builder()
        .clock(TokioClock::shared())
        .probe_every(probe.clone(), Duration::from_secs(5), Duration::from_millis(300))
        .build()
        .unwrap();
    rm.refresh(CPU).await;
    let reading = rm.reading(CPU, &Context::new());
    assert_eq!(reading.status, ResourceStatus::Unknown);
    assert!(reading.reason.unwrap().contains("timed out after 300ms"));
}

#[tokio::test]
async fn readings_older_than_the_ttl_are_stale() {
    let clock = ManualClock::new();
    let probe = Scripted::new(CPU, "host", 10.0);
    let rm = ResourceManager::builder()
        .clock(clock.shared())
        .reading_ttl(Duration::from_secs(30))
        .probe(probe)
        .build()
        .unwrap();
    rm.refresh(CPU).await;
    clock.advance(Duration::from_secs(29));
    assert_eq!(rm.check_resource(CPU, &Context::new()), (ResourceStatus::Healthy, 10.0));
    clock.advance(Duration::from_secs(1));
    assert_eq!(rm.check_resource(CPU, &Context::new()), (ResourceStatus::Unknown, 0.0));
    assert!(rm.reading(CPU, &Context::new()).reason.unwrap().starts_with("stale"));
}

#[tokio::test(start_paused = true)]
async fn samplers_follow_each_probe_interval_until_stopped() {
    let fast = Scripted::new(CPU, "fast", 10.0);
    let slow = Scripted::new(ResourceType::Memory, "slow", 10.0);
    let rm = ResourceManager::builder()
        .clock(TokioClock::shared())
        .probe_every(fast.clone(), Duration::from_secs(1), Duration::from_millis(100))
        .probe_every(slow.clone(), Duration::from_secs(10), Duration::from_millis(100))
        .build()
        .unwrap();
    rm.start();
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    assert_eq!(*fast.calls.lock().unwrap(), 11);
    assert_eq!(*slow.calls.lock().unwrap(), 2);
    fast.usage(96.0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rm.check_resource(CPU, &Context::new()).0, ResourceStatus::Critical);
    rm.stop();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(*fast.calls.lock().unwrap(), 12);
}

#[tokio::test]
async fn worst_probe_wins_unless_a_tag_selects_one() {
    let a = Scripted::new(NET, "api-a", 20.0);
    let b = Scripted::new(NET, "api-b", 96.0);
    let rm = ResourceManager::builder().probe(a).probe(b).build().unwrap();
    rm.refresh(NET).await;
    assert_eq!(rm.check_resource(NET, &Context::new()), (ResourceStatus::Critical, 96.0));
    let pick_a = Context::new().tag("endpoint", "api-a");
    assert_eq!(rm.check_resource(NET, &pick_a), (ResourceStatus::Healthy, 20.0));
}

#[tokio::test]
async fn alternatives_skip_critical_ones() {
    let quotas = Quotas {
        per_model: [("gpt-4", 97.0), ("claude-3-opus", 92.0), ("gpt-3.5-turbo", 10.0)]
            .into_iter()
            .map(|(m, p)| (m.to_owned(), p))
            .collect(),
        ..Quotas::default()
    };
    let primary = Scripted::new(NET, "primary", 99.0);
    let backup = Scripted::new(NET, "backup", 5.0);
    let rm = ResourceManager::builder()
        .thresholds(ResourceType::ApiQuota, 70.0, 90.0)
        .quota_source(Arc::new(quotas))
        .model_alternatives("gpt-4", ["claude-3-opus", "gpt-3.5-turbo"])
        .endpoint_alternatives("primary", ["backup"])
        .probe(primary)
        .probe(backup)
        .build()
        .unwrap();
    rm.refresh(NET).await;
    let gpt4 = Context::new().team("marketing-team").model("gpt-4");
    let api = ResourceType::ApiQuota;
    assert_eq!(rm.check_resource(api, &gpt4), (ResourceStatus::Critical, 97.0));
    let alt = rm.get_alternative_resource(api, &gpt4).unwrap();
    assert_eq!(alt.model.as_deref(), Some("gpt-3.5-turbo"));
    assert_eq!(alt.status, ResourceStatus::Healthy);
    let ep = rm.get_alternative_resource(NET, &Context::new().tag("endpoint", "primary"));
    assert_eq!(ep.unwrap().name, "backup");
    assert_eq!(ResourceGate::alternatives(&rm, api, &gpt4), ["gpt-3.5-turbo"]);
    assert_eq!(rm.get_alternative_resource(api, &Context::new()), None);
}

#[tokio::test]
async fn report_has_peaks_averages_and_totals() {
    let clock = ManualClock::new();
    let probe = Scripted::new(CPU, "host", 20.0);
    let rm = ResourceManager::builder().clock(clock.shared()).probe(probe.clone()).build().unwrap();
    for usage in [20.0, 60.0, 40.0] {
        probe.usage(usage);
        rm.refresh(CPU).await;
        clock.advance(Duration::from_secs(20));
    }
    clock.advance(Duration::from_secs(3 * 3600));
    probe.usage(10.0);
    rm.refresh(CPU).await;
    let api = ResourceType::ApiQuota;
    rm.record_usage(api, 1000.0, &Context::new().team("marketing-team").model("gpt-4"));
    rm.record_usage(api, 500.0, &Context::new().team("sales-team").model("gpt-4"));

    let day = rm.get_resource_report(24);
    let cpu = day.resource(CPU).unwrap();
    assert_eq!(cpu.peak_usage_percent, Some(60.0));
    assert_eq!(cpu.average_usage_percent, Some(32.5));
    assert_eq!((cpu.status, cpu.samples), (ResourceStatus::Healthy, 4));
    assert_eq!(day.usage_by_model["gpt-4"], 1500.0);
    assert_eq!(day.usage_by_team["sales-team"], 500.0);
    assert!(day.system.cpu_count >= 1 && day.system.memory_total_gb > 0.0);
    let recent = rm.get_resource_report(1);
    assert_eq!(recent.resource(CPU).unwrap().peak_usage_percent, Some(10.0));
    let db = recent.resource(ResourceType::Database).unwrap();
    assert_eq!(db.reason.as_deref(), Some("no probe configured for database"));
    let json = serde_json::to_value(&recent).unwrap();
    assert_eq!(json["resources"][2]["resource_type"], "cpu");
}

#[test]
fn record_usage_reaches_the_quota_source() {
    let quotas = Arc::new(Quotas::default());
    let rm = ResourceManager::builder().quota_source(quotas.clone()).build().unwrap();
    rm.record_usage(ResourceType::ApiQuota, 1000.0, &Context::new().team("marketing-team"));
    rm.record_usage(ResourceType::ApiQuota, f64::NAN, &Context::new());
    let recorded = quotas.recorded.lock().unwrap().clone();
    assert_eq!(recorded, [(1000.0, Some("marketing-team".to_owned()))]);
}

#[tokio::test(start_paused = true)]
async fn readings_go_stale_while_samplers_run_on_the_ticker_clock() {
    let probe = Scripted::new(CPU, "rare", 10.0);
    let rm = ResourceManager::builder()
        .clock(TokioClock::shared())
        .reading_ttl(Duration::from_secs(5))
        .probe_every(probe, Duration::from_secs(60), Duration::from_secs(1))
        .build()
        .unwrap();
    rm.start();
    tokio::time::sleep(Duration::from_millis(4_800)).await;
    assert_eq!(rm.check_resource(CPU, &Context::new()), (ResourceStatus::Healthy, 10.0));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rm.check_resource(CPU, &Context::new()), (ResourceStatus::Unknown, 0.0));
    rm.stop();
    assert!(rm.reading(CPU, &Context::new()).reason.unwrap().starts_with("stale"));
}

/// A probe of `kind` named `name` reading `usage`, or failing (`None`) to read `Unknown`.
fn scripted(kind: ResourceType, name: &str, usage: Option<f64>) -> Scripted {
    let probe = Scripted::new(kind, name, 0.0);
    match usage {
        Some(u) => probe.usage(u),
        None => probe.set(Err(ProbeError::Failed(format!("{name} unreachable")))),
    }
    probe
}

#[tokio::test]
async fn the_worst_known_reading_wins_and_unknown_only_when_none_is_known() {
    use ResourceStatus::{Critical, Healthy, Unknown};
    let cases: [(Option<f64>, Option<f64>, ResourceStatus, f64); 5] = [
        (Some(10.0), None, Healthy, 10.0),
        (None, Some(10.0), Healthy, 10.0),
        (Some(96.0), None, Critical, 96.0),
        (None, None, Unknown, 0.0),
        (Some(85.0), Some(96.0), Critical, 96.0),
    ];
    for kind in [ResourceType::Database, NET, ResourceType::McpServer, CPU] {
        for (a, b, want, usage) in cases {
            let rm = ResourceManager::builder()
                .thresholds(kind, 80.0, 95.0)
                .probe(scripted(kind, "one", a))
                .probe(scripted(kind, "two", b))
                .build()
                .unwrap();
            rm.refresh(kind).await;
            let case = format!("{kind}: {a:?} + {b:?}");
            assert_eq!(rm.check_resource(kind, &Context::new()), (want, usage), "{case}");
            let reading = rm.reading(kind, &Context::new());
            assert_eq!((reading.status, reading.usage_percent), (want, usage), "{case}");
            let report = rm.get_resource_report(1);
            let summary = report.resource(kind).unwrap();
            assert_eq!((summary.status, summary.usage_percent), (want, usage), "report, {case}");
            assert_eq!(summary.reason, reading.reason, "report, {case}");
            assert_eq!(summary.probes.len(), 2, "{case}");
            let json = serde_json::to_value(summary).unwrap();
            assert_eq!(json["status"], want.as_str(), "status --json and /api/resources, {case}");
            for (name, side) in [("one", a), ("two", b)] {
                let why = reading.reason.as_deref().unwrap_or_default();
                let listed =
                    why.contains(&format!("`{name}`")) && why.contains(&format!("{name} unreachable"));
                assert_eq!(listed, side.is_none(), "the unknown probe is named beside, {case}: {why}");
            }
        }
    }
}

#[tokio::test]
async fn a_tag_still_selects_an_unknown_probe() {
    let db = ResourceType::Database;
    let rm = ResourceManager::builder()
        .probe(scripted(db, "main", Some(10.0)))
        .probe(scripted(db, "replica", None))
        .build()
        .unwrap();
    rm.refresh(db).await;
    let replica = Context::new().tag("database", "replica");
    let reading = rm.reading(db, &replica);
    assert_eq!(reading.status, ResourceStatus::Unknown);
    assert_eq!(reading.reason.as_deref(), Some("probe failed: replica unreachable"));
}
