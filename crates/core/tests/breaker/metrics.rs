//! The metrics a breaker publishes, through a recorder local to the test.

use crate::support::*;
use elf_resilience_core::ManualClock;
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
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

/// A histogram's recorded values.
#[derive(Debug, Default)]
struct Values(Mutex<Vec<f64>>);

impl HistogramFn for Values {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

#[derive(Debug, Default)]
struct TestRecorder(Mutex<HashMap<String, Arc<Value>>>, Mutex<HashMap<String, Arc<Values>>>);

impl TestRecorder {
    fn value(&self, key: &Key) -> Arc<Value> {
        self.0.lock().unwrap().entry(id(key)).or_default().clone()
    }

    fn gauge(&self, id: &str) -> f64 {
        f64::from_bits(self.get(id))
    }

    fn recorded(&self, id: &str) -> Vec<f64> {
        self.1.lock().unwrap().get(id).map_or_else(Vec::new, |v| v.0.lock().unwrap().clone())
    }

    fn get(&self, id: &str) -> u64 {
        self.0.lock().unwrap().get(id).map_or(0, |v| v.0.load(Ordering::Relaxed))
    }
}

/// `name{k=v,...}` with the labels sorted.
fn id(key: &Key) -> String {
    let mut labels: Vec<_> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
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
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.1.lock().unwrap().entry(id(key)).or_default().clone())
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
    assert_eq!(recorder.get("elf_circuit_breaker_transitions_total{name=test,to=open}"), 1);
    let _ = ok(&cb);
    let _ = cb.stats();
    assert_eq!(calls("rejected"), 1);
    cb.reset();
    assert_eq!(state(), 0.0);
    assert_eq!(recorder.get("elf_circuit_breaker_transitions_total{name=test,to=closed}"), 1);
}

#[test]
fn failure_and_slow_call_rates_are_published_as_ratios() {
    let recorder = TestRecorder::default();
    let clock = ManualClock::new();
    let cb = metrics::with_local_recorder(&recorder, || {
        builder(&clock)
            .failure_threshold(10)
            .sliding_window(elf_resilience_core::SlidingWindow::Count(10))
            .minimum_calls(10)
            .slow_call_duration(secs(1))
            .slow_call_rate_threshold(100.0)
            .build()
            .unwrap()
    });
    let rate = |what: &str| recorder.gauge(&format!("elf_circuit_breaker_{what}{{name=test}}"));
    cb.publish_metrics();
    assert_eq!((rate("failure_rate"), rate("slow_call_rate")), (0.0, 0.0), "no calls yet");
    let _ = ok(&cb);
    let _ = cb.call(|| {
        clock.advance(secs(2));
        Ok::<_, ApiError>(1)
    });
    let _ = fail(&cb);
    let _ = fail(&cb);
    cb.publish_metrics();
    assert_eq!(rate("failure_rate"), 0.5);
    assert_eq!(rate("slow_call_rate"), 0.25);
}

#[test]
fn call_durations_are_recorded_only_when_asked_for() {
    let recorder = TestRecorder::default();
    let clock = ManualClock::new();
    let (timed, plain) = metrics::with_local_recorder(&recorder, || {
        let timed = builder(&clock).name("timed").record_call_durations(true).build().unwrap();
        (timed, builder(&clock).name("plain").build().unwrap())
    });
    let slow_call = |cb: &elf_resilience_core::CircuitBreaker, ms: u64| {
        cb.call(|| {
            clock.advance(std::time::Duration::from_millis(ms));
            Ok::<_, ApiError>(1)
        })
    };
    let _ = slow_call(&timed, 250);
    let _ = timed.call(|| {
        clock.advance(std::time::Duration::from_millis(500));
        Err::<u32, _>(ApiError::Server)
    });
    let permit = timed.try_acquire().unwrap();
    clock.advance(secs(1));
    permit.success();
    let _ = slow_call(&plain, 250);
    let durations = "elf_circuit_breaker_call_duration_seconds";
    assert_eq!(recorder.recorded(&format!("{durations}{{name=timed}}")), vec![0.25, 0.5, 1.0]);
    assert!(recorder.recorded(&format!("{durations}{{name=plain}}")).is_empty());
}
