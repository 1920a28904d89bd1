//! One registered check and its mutable state: hysteresis, flap detection, history.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use elf_resilience_core::SharedClock;

use super::flapping::FlapChange;
use super::{
    AlertReason, CheckOutcome, FlapDetector, FlapThresholds, HealthCheck, HealthCheckResult, HealthStatus,
    History, HistoryEntry, Hysteresis, Transition,
};

/// A registered check.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) check: HealthCheck,
    pub(crate) state: Mutex<EntryState>,
    running: AtomicBool,
}

/// What the monitor knows about one check.
#[derive(Debug)]
pub(crate) struct EntryState {
    pub(crate) hysteresis: Hysteresis,
    pub(crate) flap: FlapDetector,
    pub(crate) history: History,
    pub(crate) observed_value: Option<f64>,
    pub(crate) observed_unit: Option<String>,
}

impl Entry {
    pub(crate) fn new(check: HealthCheck, history: usize, flap: FlapThresholds) -> Arc<Self> {
        let state = EntryState {
            hysteresis: Hysteresis::new(),
            flap: FlapDetector::new(flap),
            history: History::new(history),
            observed_value: None,
            observed_unit: None,
        };
        Arc::new(Self { check, state: Mutex::new(state), running: AtomicBool::new(false) })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, EntryState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the check as running; false if a run is already in flight.
    pub(crate) fn try_begin(&self) -> bool {
        !self.running.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn end(&self) {
        self.running.store(false, Ordering::Release);
    }

    /// Folds one outcome into the state. Returns the full result when `want` is set or when
    /// it is to be alerted (its alert reason set); a plain scheduled run allocates nothing.
    pub(crate) fn record(
        &self,
        outcome: CheckOutcome,
        duration: Duration,
        clock: &SharedClock,
        want: bool,
    ) -> Recorded {
        let observed = outcome.effective_status();
        let c = &self.check;
        let time = clock.wall();
        let mut st = self.lock();
        let previous = st.hysteresis.status;
        let transition = st.hysteresis.observe(observed, c.failure_threshold, c.success_threshold);
        let flap = st.flap.observe(observed);
        let alert = alert_reason(transition, flap, st.flap.is_flapping());
        let result = (want || alert.is_some()).then(|| HealthCheckResult {
            name: c.name.to_string(),
            status: observed,
            check_status: st.hysteresis.status,
            previous_status: previous,
            critical: c.critical,
            message: outcome.message.to_string(),
            observed_value: outcome.observed_value,
            observed_unit: outcome.observed_unit.clone(),
            duration,
            time,
            flapping: st.flap.is_flapping(),
            alert,
            tags: c.tags.clone(),
        });
        st.history.push(HistoryEntry { time, status: observed, message: outcome.message, duration });
        (st.observed_value, st.observed_unit) = (outcome.observed_value, outcome.observed_unit);
        Recorded { observed, previous, current: st.hysteresis.status, result }
    }
}

/// What one run changed.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub(crate) observed: HealthStatus,
    pub(crate) previous: HealthStatus,
    pub(crate) current: HealthStatus,
    pub(crate) result: Option<HealthCheckResult>,
}

/// Alerts go out on a transition unless flapping, once when flapping starts and once when it
/// stops; the first verdict after start-up alerts only if it is not healthy.
fn alert_reason(t: Option<Transition>, flap: Option<FlapChange>, flapping: bool) -> Option<AlertReason> {
    match (flap, t) {
        (Some(FlapChange::Started), _) => Some(AlertReason::FlappingStarted),
        (Some(FlapChange::Stopped), _) => Some(AlertReason::FlappingStopped),
        (None, Some(t)) if !flapping && !is_startup_pass(t) => Some(AlertReason::Transition),
        _ => None,
    }
}

/// The first verdict after start-up being healthy is not news.
fn is_startup_pass(t: Transition) -> bool {
    t.from == HealthStatus::Unknown && t.to.is_healthy()
}
