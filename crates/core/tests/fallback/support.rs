//! Shared helpers for the fallback tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_core::{
    Attempt, FallbackProtocolBuilder, FixedDelay, ManualClock, ResourceStatus, ResourceType, StaticGate,
};

/// A gate plus a manual clock, and a builder wired to both with a blocking sleeper that
/// advances the clock instead of sleeping.
pub struct Rig {
    pub gate: Arc<StaticGate>,
    pub clock: ManualClock,
}

impl Rig {
    pub fn new() -> Self {
        Self { gate: Arc::new(StaticGate::new()), clock: ManualClock::new() }
    }

    pub fn builder(&self) -> FallbackProtocolBuilder {
        let clock = self.clock.clone();
        FallbackProtocolBuilder::new()
            .gate(self.gate.clone())
            .clock(self.clock.shared())
            .retry_backoff(fixed(2, 100))
            .blocking_sleeper(move |d| clock.advance(d))
    }

    pub fn set(&self, r: ResourceType, s: ResourceStatus) {
        self.gate.set(r, s, usage_of(s));
    }
}

pub fn usage_of(s: ResourceStatus) -> f64 {
    match s {
        ResourceStatus::Healthy => 10.0,
        ResourceStatus::Warning => 80.0,
        ResourceStatus::Critical => 95.0,
        _ => 100.0,
    }
}

/// `n` retries `ms` milliseconds apart.
pub fn fixed(n: u32, ms: u64) -> FixedDelay {
    FixedDelay::new().with_max_retries(n).with_delay(Duration::from_millis(ms))
}

/// Records every attempt an operation receives.
#[derive(Clone, Default)]
pub struct Calls(pub Arc<Mutex<Vec<Attempt>>>);

impl Calls {
    pub fn push(&self, a: &Attempt) {
        self.0.lock().unwrap().push(a.clone());
    }
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    pub fn providers(&self) -> Vec<Option<String>> {
        self.0.lock().unwrap().iter().map(|a| a.provider.clone()).collect()
    }
    pub fn levels(&self) -> Vec<usize> {
        self.0.lock().unwrap().iter().map(|a| a.degrade.level).collect()
    }
}
