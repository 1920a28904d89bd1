//! Health monitor behaviour under tokio's paused time: thresholds, transitions, alerts,
//! timeouts, panics, stop, flapping, aggregation, jitter and health+json.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_monitor::{
    AlertReason, CheckOutcome, HealthCheck, HealthCheckError, HealthCheckResult, HealthMonitor, HealthStatus,
    health_json,
};
use tokio::time::{Instant, sleep, sleep_until};

type Alerts = Arc<Mutex<Vec<HealthCheckResult>>>;

/// A monitor without jitter whose callback records every alert.
fn recording_monitor() -> (HealthMonitor, Alerts) {
    let alerts: Alerts = Arc::default();
    let sink = alerts.clone();
    let monitor = HealthMonitor::builder()
        .without_jitter()
        .alert_callback(move |r| {
            let sink = sink.clone();
            async move { sink.lock().unwrap().push(r) }
        })
        .build();
    (monitor, alerts)
}

const HEALTHY: u8 = 0;
const DEGRADED: u8 = 1;
const UNHEALTHY: u8 = 2;

/// A check whose result is set from outside; counts its runs.
fn switchable(
    name: &str,
    state: &Arc<AtomicU8>,
    runs: &Arc<AtomicUsize>,
) -> elf_resilience_monitor::HealthCheckBuilder {
    let (state, runs) = (state.clone(), runs.clone());
    HealthCheck::builder(name, move || {
        runs.fetch_add(1, Ordering::SeqCst);
        let s = state.load(Ordering::SeqCst);
        async move {
            match s {
                HEALTHY => CheckOutcome::healthy("ok"),
                DEGRADED => CheckOutcome::degraded("slow"),
                _ => CheckOutcome::unhealthy("down"),
            }
        }
    })
    .interval(Duration::from_secs(1))
    .timeout(Duration::from_millis(500))
}

fn reasons(alerts: &Alerts) -> Vec<(Option<AlertReason>, HealthStatus)> {
    alerts.lock().unwrap().iter().map(|a| (a.alert, a.check_status)).collect()
}

#[tokio::test(start_paused = true)]
async fn failure_threshold_then_one_alert_per_transition() {
    let (monitor, alerts) = recording_monitor();
    let (state, runs) = (Arc::new(AtomicU8::new(HEALTHY)), Arc::new(AtomicUsize::new(0)));
    monitor.register_check(switchable("db", &state, &runs).critical(true).build().unwrap()).unwrap();
    let t0 = Instant::now();
    monitor.start_monitoring().await;
    sleep_until(t0 + Duration::from_millis(2500)).await; // runs at 0, 1, 2
    assert_eq!(monitor.get_health_status(Some("db")), HealthStatus::Healthy);
    state.store(UNHEALTHY, Ordering::SeqCst);
    sleep_until(t0 + Duration::from_millis(4500)).await; // failing runs at 3, 4
    assert_eq!(monitor.get_health_status(Some("db")), HealthStatus::Healthy);
    assert_eq!(monitor.get_health_report().checks["db"].consecutive_failures, 2);
    sleep_until(t0 + Duration::from_millis(5500)).await; // third failure at 5
    assert_eq!(monitor.get_health_status(None), HealthStatus::Unhealthy);
    sleep_until(t0 + Duration::from_millis(9500)).await; // still failing: no new alert
    state.store(HEALTHY, Ordering::SeqCst);
    sleep_until(t0 + Duration::from_millis(10_500)).await; // recovers at 10
    monitor.stop().await;
    monitor.alerts_idle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 11);
    let got = reasons(&alerts);
    assert_eq!(
        got,
        vec![
            (Some(AlertReason::Transition), HealthStatus::Unhealthy),
            (Some(AlertReason::Transition), HealthStatus::Healthy)
        ]
    );
    let first = &alerts.lock().unwrap()[0];
    assert_eq!(
        (first.previous_status, first.critical, first.message.as_str()),
        (HealthStatus::Healthy, true, "down")
    );
}

#[tokio::test(start_paused = true)]
async fn degraded_transitions_and_success_threshold() {
    let (monitor, alerts) = recording_monitor();
    let (state, runs) = (Arc::new(AtomicU8::new(DEGRADED)), Arc::new(AtomicUsize::new(0)));
    let check = switchable("cache", &state, &runs).failure_threshold(2).success_threshold(3).build().unwrap();
    monitor.register_check(check).unwrap();
    // The first run sets the status at once; the thresholds apply to later transitions.
    monitor.run_check_now("cache").await.unwrap();
    assert_eq!(monitor.get_health_status(Some("cache")), HealthStatus::Degraded);
    monitor.run_check_now("cache").await.unwrap();
    assert_eq!(monitor.get_health_status(Some("cache")), HealthStatus::Degraded);
    state.store(HEALTHY, Ordering::SeqCst);
    for expected in [HealthStatus::Degraded, HealthStatus::Degraded, HealthStatus::Healthy] {
        monitor.run_check_now("cache").await.unwrap();
        assert_eq!(monitor.get_health_status(Some("cache")), expected);
    }
    monitor.alerts_idle().await;
    let got = reasons(&alerts);
    assert_eq!(got.iter().map(|r| r.1).collect::<Vec<_>>(), [HealthStatus::Degraded, HealthStatus::Healthy]);
}

#[tokio::test(start_paused = true)]
async fn hanging_check_is_cut_at_its_timeout() {
    let monitor = HealthMonitor::default();
    let check = HealthCheck::builder("hang", || async {
        sleep(Duration::from_secs(3600)).await;
        true
    })
    .timeout(Duration::from_secs(2))
    .build()
    .unwrap();
    monitor.register_check(check).unwrap();
    let start = Instant::now();
    let r = monitor.run_check_now("hang").await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!((r.status, r.message.as_str()), (HealthStatus::Unhealthy, "timed out after 2s"));
    assert_eq!(r.duration, Duration::from_secs(2));
    // JSON speaks milliseconds, as elsewhere: the result, the report's check and its history.
    assert_eq!(serde_json::to_value(&r).unwrap()["duration_ms"], 2000.0);
    let report = serde_json::to_value(monitor.get_health_report()).unwrap();
    assert!(report.to_string().contains("\"duration_ms\":2000.0"), "{report}");
    assert!(!report.to_string().contains("nanos"), "{report}");
}

#[tokio::test(start_paused = true)]
async fn panicking_check_fails_and_the_monitor_keeps_running() {
    let monitor = HealthMonitor::builder().without_jitter().build();
    let boom = HealthCheck::builder("boom", || async {
        if true {
            panic!("pool poisoned");
        }
        true
    })
    .interval(Duration::from_secs(1))
    .failure_threshold(1)
    .build()
    .unwrap();
    let sync_boom =
        HealthCheck::builder("sync_boom", || -> std::future::Ready<bool> { panic!("before the future") })
            .interval(Duration::from_secs(1))
            .build()
            .unwrap();
    let (state, runs) = (Arc::new(AtomicU8::new(HEALTHY)), Arc::new(AtomicUsize::new(0)));
    monitor.register_check(boom).unwrap();
    monitor.register_check(sync_boom).unwrap();
    monitor.register_check(switchable("ok", &state, &runs).build().unwrap()).unwrap();
    let r = monitor.run_check_now("boom").await.unwrap();
    assert_eq!((r.status, r.message.as_str()), (HealthStatus::Unhealthy, "panicked: pool poisoned"));
    let r = monitor.run_check_now("sync_boom").await.unwrap();
    assert_eq!(r.message, "panicked: before the future");
    monitor.start_monitoring().await;
    sleep(Duration::from_millis(4500)).await;
    monitor.stop().await;
    let report = monitor.get_health_report();
    assert_eq!(runs.load(Ordering::SeqCst), 5);
    assert_eq!(report.checks["boom"].history.len(), 6);
    assert_eq!(report.checks["boom"].status, HealthStatus::Unhealthy);
    assert_eq!(report.checks["ok"].status, HealthStatus::Healthy);
}

#[tokio::test(start_paused = true)]
async fn stop_waits_for_in_flight_runs() {
    let monitor = HealthMonitor::builder().without_jitter().build();
    let slow = HealthCheck::builder("slow", || async {
        sleep(Duration::from_secs(3)).await;
        true
    })
    .interval(Duration::from_secs(10))
    .timeout(Duration::from_secs(5))
    .build()
    .unwrap();
    let hang = HealthCheck::builder("hang", std::future::pending::<bool>)
        .interval(Duration::from_secs(10))
        .timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    monitor.register_check(slow).unwrap();
    monitor.register_check(hang).unwrap();
    let t0 = Instant::now();
    monitor.start_monitoring().await;
    sleep(Duration::from_secs(1)).await;
    monitor.stop().await;
    assert_eq!(t0.elapsed(), Duration::from_secs(4));
    assert!(!monitor.is_monitoring());
    let report = monitor.get_health_report();
    assert_eq!(report.checks["slow"].message, "check passed");
    assert_eq!(report.checks["hang"].message, "timed out after 4s");
    sleep(Duration::from_secs(60)).await;
    assert_eq!(monitor.get_health_report().checks["slow"].history.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn flapping_sends_one_alert_then_quiet_until_it_stops() {
    let (monitor, alerts) = recording_monitor();
    let (state, runs) = (Arc::new(AtomicU8::new(HEALTHY)), Arc::new(AtomicUsize::new(0)));
    monitor.register_check(switchable("api", &state, &runs).failure_threshold(1).build().unwrap()).unwrap();
    for i in 0..40 {
        state.store(if i % 2 == 0 { HEALTHY } else { UNHEALTHY }, Ordering::SeqCst);
        monitor.run_check_now("api").await.unwrap();
    }
    monitor.alerts_idle().await;
    let got = reasons(&alerts);
    let transitions = got.iter().filter(|r| r.0 == Some(AlertReason::Transition)).count();
    assert_eq!(transitions, 5, "{got:?}");
    assert_eq!(got.last().unwrap().0, Some(AlertReason::FlappingStarted));
    assert!(monitor.get_health_report().checks["api"].flapping);
    state.store(HEALTHY, Ordering::SeqCst);
    for _ in 0..40 {
        monitor.run_check_now("api").await.unwrap();
    }
    monitor.alerts_idle().await;
    let got = reasons(&alerts);
    assert_eq!(got.len(), 7, "{got:?}");
    assert_eq!(got[6], (Some(AlertReason::FlappingStopped), HealthStatus::Healthy));
    assert!(!monitor.get_health_report().checks["api"].flapping);
}

#[tokio::test(start_paused = true)]
async fn aggregation_over_critical_and_optional_checks() {
    let monitor = HealthMonitor::default();
    let states: Vec<_> = (0..2).map(|_| Arc::new(AtomicU8::new(HEALTHY))).collect();
    let runs = Arc::new(AtomicUsize::new(0));
    monitor
        .register_check(
            switchable("core", &states[0], &runs).critical(true).failure_threshold(1).build().unwrap(),
        )
        .unwrap();
    monitor
        .register_check(switchable("extra", &states[1], &runs).failure_threshold(1).build().unwrap())
        .unwrap();
    assert_eq!(monitor.get_health_status(None), HealthStatus::Unknown);
    let run_all = || async {
        monitor.run_check_now("core").await.unwrap();
        monitor.run_check_now("extra").await.unwrap();
        monitor.get_health_status(None)
    };
    assert_eq!(run_all().await, HealthStatus::Healthy);
    states[1].store(UNHEALTHY, Ordering::SeqCst);
    assert_eq!(run_all().await, HealthStatus::Degraded);
    states[0].store(UNHEALTHY, Ordering::SeqCst);
    assert_eq!(run_all().await, HealthStatus::Unhealthy);
    assert_eq!(monitor.get_health_status(Some("extra")), HealthStatus::Unhealthy);
    assert_eq!(monitor.get_health_status(Some("missing")), HealthStatus::Unknown);
}

#[tokio::test(start_paused = true)]
async fn health_json_reports_fail_with_503() {
    let monitor = HealthMonitor::default();
    let cpu = HealthCheck::builder("cpu", || async {
        CheckOutcome::unhealthy("97% busy").with_observed(97.0, "percent")
    })
    .measurement("utilization")
    .component_type("system")
    .critical(true)
    .failure_threshold(1)
    .build()
    .unwrap();
    monitor.register_check(cpu).unwrap();
    monitor.register_check(HealthCheck::builder("idle", || async { true }).build().unwrap()).unwrap();
    let (code, body) = health_json(&monitor.get_health_report());
    assert_eq!((code, body["status"].as_str()), (200, Some("warn")));
    monitor.run_check_now("cpu").await.unwrap();
    let (code, body) = health_json(&monitor.get_health_report());
    assert_eq!((code, body["status"].as_str()), (503, Some("fail")));
    let entry = &body["checks"]["cpu:utilization"][0];
    assert_eq!(entry["componentId"], "cpu");
    assert_eq!(entry["componentType"], "system");
    assert_eq!(entry["observedValue"], 97.0);
    assert_eq!(entry["observedUnit"], "percent");
    assert_eq!(entry["status"], "fail");
    assert_eq!(entry["output"], "97% busy");
    let time = entry["time"].as_str().unwrap();
    assert!(time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
    assert_eq!(body["checks"]["idle"][0]["status"], "warn");
    assert!(body["checks"]["idle"][0].get("time").is_none());
}

#[tokio::test(start_paused = true)]
async fn jitter_spreads_first_runs_deterministically() {
    async fn first_runs(seed: u64) -> Vec<Duration> {
        let monitor = HealthMonitor::builder().jitter_seed(seed).build();
        let t0 = Instant::now();
        let seen: Arc<Mutex<Vec<Duration>>> = Arc::default();
        for i in 0..100 {
            let seen = seen.clone();
            let check = HealthCheck::builder(format!("c{i}"), move || {
                seen.lock().unwrap().push(t0.elapsed());
                async { true }
            })
            .interval(Duration::from_secs(10))
            .build()
            .unwrap();
            monitor.register_check(check).unwrap();
        }
        monitor.start_monitoring().await;
        sleep(Duration::from_millis(9_999)).await;
        monitor.stop().await;
        seen.lock().unwrap().clone()
    }
    let a = first_runs(7).await;
    assert_eq!(a.len(), 100);
    let first_half = a.iter().filter(|d| **d < Duration::from_secs(5)).count();
    assert!((30..=70).contains(&first_half), "{first_half} of 100 in the first half");
    let distinct_ms: std::collections::BTreeSet<_> = a.iter().map(|d| d.as_millis()).collect();
    assert!(distinct_ms.len() > 90);
    assert_eq!(a, first_runs(7).await);
    assert_ne!(a, first_runs(8).await);
}

#[tokio::test(start_paused = true)]
async fn checks_registered_while_running_are_scheduled_and_history_is_bounded() {
    let monitor = HealthMonitor::builder().without_jitter().history_capacity(3).build();
    monitor.start_monitoring().await;
    let (state, runs) = (Arc::new(AtomicU8::new(HEALTHY)), Arc::new(AtomicUsize::new(0)));
    monitor.register_check(switchable("late", &state, &runs).build().unwrap()).unwrap();
    let dup = monitor.register_check(switchable("late", &state, &runs).build().unwrap());
    assert_eq!(dup, Err(HealthCheckError::Duplicate("late".into())));
    sleep(Duration::from_millis(4500)).await;
    monitor.stop().await;
    assert_eq!(runs.load(Ordering::SeqCst), 5);
    let report = monitor.get_health_report();
    let late = &report.checks["late"];
    assert_eq!((late.history.len(), late.consecutive_successes), (3, 5));
    assert!(late.last_run.is_some() && late.duration == Some(Duration::ZERO));
    let missing = monitor.run_check_now("nope").await.unwrap_err();
    assert_eq!(missing, HealthCheckError::NotFound("nope".into()));
}

/// A probe whose usage is set from outside.
#[derive(Debug)]
struct DialProbe {
    resource: elf_resilience_core::ResourceType,
    usage: Arc<Mutex<f64>>,
}

impl elf_resilience_monitor::Probe for DialProbe {
    fn resource_type(&self) -> elf_resilience_core::ResourceType {
        self.resource
    }
    fn name(&self) -> &str {
        "dial"
    }
    fn sample(
        &self,
    ) -> elf_resilience_monitor::BoxFuture<
        '_,
        Result<elf_resilience_monitor::Sample, elf_resilience_monitor::ProbeError>,
    > {
        let usage = *self.usage.lock().unwrap();
        Box::pin(async move { Ok(elf_resilience_monitor::Sample::new(usage, "dialled")) })
    }
}

#[tokio::test(start_paused = true)]
async fn default_checks_follow_the_resource_manager_thresholds() {
    use elf_resilience_core::ResourceType::{Cpu, Memory};
    let (cpu, mem) = (Arc::new(Mutex::new(50.0)), Arc::new(Mutex::new(40.0)));
    let rm = elf_resilience_monitor::ResourceManager::builder()
        .thresholds(Cpu, 70.0, 90.0)
        .probe(DialProbe { resource: Cpu, usage: cpu.clone() })
        .probe(DialProbe { resource: Memory, usage: mem.clone() })
        .build()
        .unwrap();
    let monitor = HealthMonitor::default();
    assert_eq!(monitor.register_default_checks(&rm).unwrap(), ["cpu", "memory", "disk"]);
    let r = monitor.run_check_now("cpu").await.unwrap();
    assert_eq!((r.status, r.observed_value), (HealthStatus::Healthy, Some(50.0)));
    assert_eq!(r.message, "cpu healthy at 50.0% (warning 70%, critical 90%)");
    *cpu.lock().unwrap() = 75.0;
    *mem.lock().unwrap() = 99.0;
    for _ in 0..3 {
        monitor.run_check_now("cpu").await.unwrap();
        monitor.run_check_now("memory").await.unwrap();
    }
    assert_eq!(monitor.get_health_status(Some("cpu")), HealthStatus::Degraded);
    assert_eq!(monitor.get_health_status(Some("memory")), HealthStatus::Unhealthy);
    assert_eq!(monitor.get_health_status(None), HealthStatus::Unhealthy, "memory is critical");
    let disk = monitor.run_check_now("disk").await.unwrap();
    assert!(disk.message.starts_with("disk "), "{}", disk.message);
    let (_, body) = health_json(&monitor.get_health_report());
    assert_eq!(body["checks"]["memory:utilization"][0]["observedValue"], 99.0);
}
