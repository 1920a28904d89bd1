//! The health monitor: registered checks, the scheduler, status, report, alerts.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use elf_resilience_core::SharedClock;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::alert::AlertDispatcher;
use super::entry::Entry;
use super::report::CheckReport;
use super::{
    FlapThresholds, HealthCheck, HealthCheckError, HealthCheckResult, HealthMonitorBuilder, HealthReport,
    HealthStatus, aggregate_health, run, scheduler,
};

#[derive(Debug, Default)]
struct Registry {
    entries: Vec<Arc<Entry>>,
    index: HashMap<Arc<str>, usize>,
}

#[derive(Debug)]
struct Running {
    add: mpsc::UnboundedSender<Arc<Entry>>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// State shared by the monitor, its scheduler and the runs.
#[derive(Debug)]
pub(crate) struct Shared {
    registry: RwLock<Registry>,
    running: Mutex<Option<Running>>,
    alerts: AlertDispatcher,
    clock: SharedClock,
    history_capacity: usize,
    flap: FlapThresholds,
    pub(crate) jitter_seed: Option<u64>,
}

impl Shared {
    /// Runs one check, folds the result in, and queues an alert if one is due. With `want`,
    /// the result is returned even when there is nothing to alert.
    pub(crate) async fn run_entry(&self, entry: &Entry, want: bool) -> Option<HealthCheckResult> {
        let (outcome, duration) = run::execute(&entry.check).await;
        let rec = entry.record(outcome, duration, &self.clock, want);
        metrics::counter!("elf_health_check_runs_total", "status" => rec.observed.as_str()).increment(1);
        if rec.current != rec.previous {
            metrics::counter!("elf_health_check_transitions_total", "to" => rec.current.as_str())
                .increment(1);
            tracing::info!(check = %entry.check.name, from = %rec.previous, to = %rec.current, "health check changed status");
        }
        let result = rec.result?;
        if let Some(reason) = result.alert {
            tracing::debug!(check = %result.name, reason = reason.as_str(), "health alert queued");
            self.alerts.dispatch(result.clone());
        }
        Some(result)
    }
}

/// Runs health checks on their intervals and says how the service stands.
///
/// ```
/// use elf_resilience_monitor::{HealthCheck, HealthMonitor, HealthStatus};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let monitor = HealthMonitor::new(|alert| async move { eprintln!("{}", alert.summary()) });
/// monitor.register_check(HealthCheck::builder("db", || async { true }).critical(true).build().unwrap()).unwrap();
/// assert_eq!(monitor.get_health_status(None), HealthStatus::Unknown);
/// let result = monitor.run_check_now("db").await.unwrap();
/// assert_eq!(result.status, HealthStatus::Healthy);
/// assert_eq!(monitor.get_health_status(Some("db")), HealthStatus::Healthy);
/// # }
/// ```
#[derive(Debug)]
pub struct HealthMonitor {
    shared: Arc<Shared>,
}

impl Default for HealthMonitor {
    fn default() -> Self {
        HealthMonitorBuilder::default().build()
    }
}

impl HealthMonitor {
    /// A monitor that sends alerts to an async callback.
    pub fn new<F, Fut>(alert_callback: F) -> Self
    where
        F: Fn(HealthCheckResult) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::builder().alert_callback(alert_callback).build()
    }

    /// A builder for sinks, clock, history size, flap thresholds and jitter.
    pub fn builder() -> HealthMonitorBuilder {
        HealthMonitorBuilder::default()
    }

    pub(crate) fn from_parts(b: HealthMonitorBuilder) -> Self {
        let alerts = AlertDispatcher::new(b.sinks, b.alert_queue, b.alert_retry);
        let shared = Shared {
            registry: RwLock::default(),
            running: Mutex::default(),
            alerts,
            clock: b.clock,
            history_capacity: b.history_capacity,
            flap: b.flap,
            jitter_seed: b.jitter_seed,
        };
        Self { shared: Arc::new(shared) }
    }

    /// Registers a check; if monitoring runs, it is scheduled at once.
    pub fn register_check(&self, check: HealthCheck) -> Result<(), HealthCheckError> {
        let entry = Entry::new(check, self.shared.history_capacity, self.shared.flap);
        {
            let mut reg = self.shared.registry.write().unwrap_or_else(|e| e.into_inner());
            if reg.index.contains_key(&entry.check.name) {
                return Err(HealthCheckError::Duplicate(entry.check.name.to_string()));
            }
            let at = reg.entries.len();
            reg.index.insert(entry.check.name.clone(), at);
            reg.entries.push(entry.clone());
        }
        if let Some(running) = self.running().as_ref() {
            let _ = running.add.send(entry);
        }
        Ok(())
    }

    /// The names of the registered checks, in registration order.
    pub fn check_names(&self) -> Vec<String> {
        self.entries().iter().map(|e| e.check.name.to_string()).collect()
    }

    /// Starts the scheduler (idempotent). Must be called inside a tokio runtime.
    pub async fn start_monitoring(&self) {
        let mut running = self.running();
        if running.is_some() {
            return;
        }
        self.shared.alerts.ensure_started();
        let (add, stop, task) = scheduler::spawn(self.shared.clone(), self.entries());
        tracing::info!(checks = self.entries().len(), "health monitoring started");
        *running = Some(Running { add, stop, task });
    }

    /// Whether the scheduler is running.
    pub fn is_monitoring(&self) -> bool {
        self.running().is_some()
    }

    /// Stops scheduling and waits for in-flight runs, each of which ends by its timeout.
    pub async fn stop(&self) {
        let running = self.running().take();
        if let Some(Running { stop, task, .. }) = running {
            let _ = stop.send(());
            let _ = task.await;
            tracing::info!("health monitoring stopped");
        }
    }

    /// The status of one check (Unknown if there is no such check), or with `None` the
    /// aggregate of all checks.
    pub fn get_health_status(&self, name: Option<&str>) -> HealthStatus {
        match name {
            Some(name) => self.entry(name).map_or(HealthStatus::Unknown, |e| e.lock().hysteresis.status),
            None => aggregate_health(
                self.entries().iter().map(|e| (e.lock().hysteresis.status, e.check.critical)),
            ),
        }
    }

    /// The report: overall status and every check with its recent history.
    pub fn get_health_report(&self) -> HealthReport {
        let checks: BTreeMap<String, CheckReport> =
            self.entries().iter().map(|e| (e.check.name.to_string(), CheckReport::of(e))).collect();
        let status = aggregate_health(checks.values().map(|c| (c.status, c.critical)));
        HealthReport { status, time: self.shared.clock.wall(), checks }
    }

    /// Runs one check now, outside its schedule, and returns its result.
    pub async fn run_check_now(&self, name: &str) -> Result<HealthCheckResult, HealthCheckError> {
        let entry = self.entry(name).ok_or_else(|| HealthCheckError::NotFound(name.to_owned()))?;
        let result = self.shared.run_entry(&entry, true).await;
        result.ok_or_else(|| HealthCheckError::NotFound(name.to_owned()))
    }

    /// Waits until every queued alert has been delivered or given up on.
    pub async fn alerts_idle(&self) {
        self.shared.alerts.idle().await;
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.shared.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entries(&self) -> Vec<Arc<Entry>> {
        self.shared.registry.read().unwrap_or_else(|e| e.into_inner()).entries.clone()
    }

    fn entry(&self, name: &str) -> Option<Arc<Entry>> {
        let reg = self.shared.registry.read().unwrap_or_else(|e| e.into_inner());
        reg.index.get(name).map(|&i| reg.entries[i].clone())
    }
}

impl Drop for HealthMonitor {
    fn drop(&mut self) {
        if let Some(running) = self.running().take() {
            let _ = running.stop.send(());
        }
    }
}
