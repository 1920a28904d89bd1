//! What the HTTP handlers and the background tasks share.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use elf_resilience::HealthMonitor;
use elf_resilience::{CircuitBreakerRegistry, Context, RequestQueue, ResourceManager, ResourceType};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;

use crate::config::Secret;
use crate::replay::ReplayStatus;
use crate::shared::SharedBreakers;

/// Points of usage history kept per resource for the dashboard charts.
pub const HISTORY_POINTS: usize = 240;

/// One point of a usage chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UsagePoint {
    /// Seconds since the Unix epoch.
    pub t: f64,
    /// Usage in percent.
    pub usage: f64,
}

/// The state shared by every handler; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// Resource readings and the report.
    pub resources: ResourceManager,
    /// Health checks.
    pub health: HealthMonitor,
    /// Circuit breakers.
    pub breakers: Arc<CircuitBreakerRegistry>,
    /// The durable request queue.
    pub queue: Arc<dyn RequestQueue>,
    /// The bearer token of the write endpoints.
    pub token: Secret,
    /// The Prometheus renderer, when a recorder is installed.
    pub metrics: Option<PrometheusHandle>,
    history: Mutex<[VecDeque<UsagePoint>; 8]>,
    ready: AtomicBool,
    replay: OnceLock<Arc<ReplayStatus>>,
    shared: OnceLock<SharedBreakers>,
}

impl AppState {
    /// Bundles the parts; the service reports ready once [`AppState::set_ready`] is called.
    pub fn new(
        resources: ResourceManager,
        health: HealthMonitor,
        breakers: Arc<CircuitBreakerRegistry>,
        queue: Arc<dyn RequestQueue>,
        token: Secret,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        let history = Mutex::new(std::array::from_fn(|_| VecDeque::with_capacity(HISTORY_POINTS)));
        let ready = AtomicBool::new(false);
        let (replay, shared) = (OnceLock::new(), OnceLock::new());
        Self(Arc::new(Shared {
            resources,
            health,
            breakers,
            queue,
            token,
            metrics,
            history,
            ready,
            replay,
            shared,
        }))
    }

    /// Shows the queue worker's handlers and totals in `/api/queue` (first call wins).
    pub fn set_replay(&self, status: Arc<ReplayStatus>) {
        let _ = self.0.replay.set(status);
    }

    /// The queue worker's status, when one runs.
    pub fn replay(&self) -> Option<&Arc<ReplayStatus>> {
        self.0.replay.get()
    }

    /// Shows other processes' breakers and routes commands to them (first call wins).
    pub fn set_shared_breakers(&self, shared: SharedBreakers) {
        let _ = self.0.shared.set(shared);
    }

    /// The shared breaker store, when one is set.
    pub fn shared_breakers(&self) -> Option<&SharedBreakers> {
        self.0.shared.get()
    }

    /// Marks the service ready (or not) for `/readyz`.
    pub fn set_ready(&self, ready: bool) {
        self.0.ready.store(ready, Ordering::Release);
    }

    /// Whether the service is ready.
    pub fn is_ready(&self) -> bool {
        self.0.ready.load(Ordering::Acquire)
    }

    fn history(&self) -> MutexGuard<'_, [VecDeque<UsagePoint>; 8]> {
        self.0.history.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends the current usage of every resource type to the chart history.
    pub fn record_history(&self, at: SystemTime) {
        let t = at.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let mut history = self.history();
        for (series, ty) in history.iter_mut().zip(ResourceType::ALL) {
            let (_, usage) = self.resources.check_resource(ty, &Context::new());
            if series.len() == HISTORY_POINTS {
                series.pop_front();
            }
            series.push_back(UsagePoint { t, usage });
        }
    }

    /// The chart history of `ty`, oldest first.
    pub fn history_of(&self, ty: ResourceType) -> Vec<UsagePoint> {
        let index = ResourceType::ALL.iter().position(|&t| t == ty).unwrap_or(0);
        self.history()[index].iter().copied().collect()
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
