//! The metrics a breaker publishes, through a recorder local to the test.

use crate::support::*;
use elf_resilience_core::ManualClock;
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One metric value: a counter's count, or a gauge's f64 bits.
#[derive(Debug, Default)]
struct Value(AtomicU64);

impl CounterFn for Value {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::Relaxed);
    }
}

impl GaugeFn for Value {
    fn increment(&self, _: f64) {}
    fn decrement(&self, _: f64) {}
    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct TestRecorder(Mutex<HashMap<String, Arc<Value>>>);

impl TestRecorder {
    fn value(&self, key: &Key) -> Arc<Value> {
        let mut labels: Vec<_> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        labels.sort();
        let id = format!("{}{{{}}}", key.name(), labels.join(","));
        self.0.lock().unwrap().entry(id).or_default().clone()
    }

    fn get(&self, id: &str) -> u64 {
        self.0.lock().unwrap().get(id).map_or(0, |v| v.0.load(Ordering::Relaxed))
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.value(key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.value(key))
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[test]
fn transitions_and_published_calls_reach_the_recorder() {
    let recorder = TestRecorder::default();
    let clock = ManualClock::new();
    let cb = metrics::with_local_recorder(&recorder, || breaker(&clock, 2));
    let calls = |outcome: &str| {
        recorder.get(&format!("elf_circuit_breaker_calls_total{{name=test,outcome={outcome}}}"))
    };
    let state = || f64::from_bits(recorder.get("elf_circuit_breaker_state{name=test}"));
    let _ = ok(&cb);
    assert_eq!(calls("success"), 0, "calls are published, not pushed per call");
    cb.publish_metrics();
    assert_eq!(calls("success"), 1);
    let _ = fail(&cb);
    let _ = fail(&cb); // opens: a transition publishes too
    assert_eq!(calls("failure"), 2);
    assert_eq!(state(), 1.0);
    assert_eq!(recorder.get("elf_circuit_breaker_transitions_total{name=test,to=OPEN}"), 1);
    let _ = ok(&cb);
    let _ = cb.stats();
    assert_eq!(calls("rejected"), 1);
    cb.reset();
    assert_eq!(state(), 0.0);
    assert_eq!(recorder.get("elf_circuit_breaker_transitions_total{name=test,to=CLOSED}"), 1);
}
