//! Building a [`HealthMonitor`]: sinks, clock, history size, flap thresholds, jitter.

use std::future::Future;
use std::sync::Arc;

use elf_resilience_core::{SharedClock, SystemClock};

use super::{
    AlertRetry, AlertSink, CallbackSink, FlapThresholds, HealthCheckResult, HealthMonitor, SharedAlertSink,
};

/// The default jitter seed.
pub const DEFAULT_JITTER_SEED: u64 = 0x5eed_e1f5;

/// Builds a [`HealthMonitor`].
///
/// # Default
///
/// no sinks, the system clock, 100 history entries per check, flap thresholds 20 % / 30 %,
/// jitter seeded with [`DEFAULT_JITTER_SEED`], 256 queued alerts per sink, [`AlertRetry`]'s
/// default.
///
/// ```
/// use elf_resilience_monitor::{HealthMonitor, LogSink};
/// let monitor = HealthMonitor::builder().sink(LogSink).history_capacity(50).jitter_seed(42).build();
/// # let _ = monitor;
/// ```
#[derive(Debug)]
#[must_use]
pub struct HealthMonitorBuilder {
    pub(crate) sinks: Vec<SharedAlertSink>,
    pub(crate) clock: SharedClock,
    pub(crate) history_capacity: usize,
    pub(crate) flap: FlapThresholds,
    pub(crate) jitter_seed: Option<u64>,
    pub(crate) alert_queue: usize,
    pub(crate) alert_retry: AlertRetry,
}

impl Default for HealthMonitorBuilder {
    fn default() -> Self {
        Self {
            sinks: Vec::new(),
            clock: SystemClock::shared(),
            history_capacity: 100,
            flap: FlapThresholds::default(),
            jitter_seed: Some(DEFAULT_JITTER_SEED),
            alert_queue: 256,
            alert_retry: AlertRetry::default(),
        }
    }
}

impl HealthMonitorBuilder {
    /// Sends alerts to an async callback.
    pub fn alert_callback<F, Fut>(self, callback: F) -> Self
    where
        F: Fn(HealthCheckResult) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.sink(CallbackSink::new(callback))
    }

    /// Adds an alert sink.
    pub fn sink(mut self, sink: impl AlertSink) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// Adds a shared alert sink.
    pub fn shared_sink(mut self, sink: SharedAlertSink) -> Self {
        self.sinks.push(sink);
        self
    }

    /// The clock for wall times in results and reports.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How many recent results each check keeps (at least 1).
    pub fn history_capacity(mut self, n: usize) -> Self {
        self.history_capacity = n.max(1);
        self
    }

    /// Flap detection thresholds.
    pub fn flap_thresholds(mut self, t: FlapThresholds) -> Self {
        self.flap = t;
        self
    }

    /// Seeds the jitter that spreads first runs over each check's interval.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Runs every check first at exactly its initial delay.
    pub fn without_jitter(mut self) -> Self {
        self.jitter_seed = None;
        self
    }

    /// How many alerts each sink may have queued before new ones are dropped (at least 1).
    pub fn alert_queue_capacity(mut self, n: usize) -> Self {
        self.alert_queue = n.max(1);
        self
    }

    /// How failed alert deliveries are retried.
    pub fn alert_retry(mut self, retry: AlertRetry) -> Self {
        self.alert_retry = retry;
        self
    }

    /// The monitor.
    pub fn build(self) -> HealthMonitor {
        HealthMonitor::from_parts(self)
    }
}
