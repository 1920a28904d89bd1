//! One registered probe with its schedule, its hot slot and its last full reading.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use elf_resilience_core::ResourceStatus;

use super::probe::Probe;
use super::slot::Slot;

/// The full last reading of a probe, for reasons and reports.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastReading {
    pub(crate) status: Option<ResourceStatus>,
    pub(crate) usage: f64,
    pub(crate) reason: Option<String>,
    pub(crate) detail: String,
    pub(crate) metrics: Vec<(String, f64)>,
    pub(crate) at: Option<SystemTime>,
}

/// A probe and its state inside the manager.
#[derive(Debug)]
pub(crate) struct ProbeEntry {
    pub(crate) probe: Arc<dyn Probe>,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) slot: Slot,
    last: Mutex<LastReading>,
}

impl ProbeEntry {
    pub(crate) fn new(probe: Arc<dyn Probe>, interval: Duration, timeout: Duration) -> Self {
        Self { probe, interval, timeout, slot: Slot::default(), last: Mutex::default() }
    }

    pub(crate) fn last(&self) -> MutexGuard<'_, LastReading> {
        self.last.lock().unwrap_or_else(|e| e.into_inner())
    }
}
