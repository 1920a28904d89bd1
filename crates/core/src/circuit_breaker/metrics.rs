//! `metrics` handles, resolved once per breaker.
//!
//! Nothing here runs per call but the duration histogram, which is off by default
//! ([`record_call_durations`](super::CircuitBreakerBuilder::record_call_durations)). Call
//! outcomes are counted in the breaker's own striped counters and published to the call
//! counters and rate gauges as absolute values on every transition, on every
//! [`stats`](super::CircuitBreaker::stats) and on
//! [`publish_metrics`](super::CircuitBreaker::publish_metrics) (which a `/metrics` handler
//! calls, through [`CircuitBreakerRegistry::publish_metrics`](super::CircuitBreakerRegistry::publish_metrics),
//! before rendering). Handles are registered when the breaker is built: install the recorder
//! before building breakers. Label values are lower case.
//!
//! | name | kind | labels |
//! |------|------|--------|
//! | `elf_circuit_breaker_calls_total` | counter | `name`, `outcome` (success, failure, rejected, ignored) |
//! | `elf_circuit_breaker_slow_calls_total` | counter | `name` |
//! | `elf_circuit_breaker_transitions_total` | counter | `name`, `to` (closed, open, half_open, forced_open, disabled) |
//! | `elf_circuit_breaker_state` | gauge | `name` (0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled) |
//! | `elf_circuit_breaker_failure_rate` | gauge | `name`: failures over successes and failures, 0–1 (0 before any call) |
//! | `elf_circuit_breaker_slow_call_rate` | gauge | `name`: slow calls over successes and failures, 0–1 |
//! | `elf_circuit_breaker_call_duration_seconds` | histogram | `name`: admitted calls' durations, when recorded |

use super::CircuitState;
use super::counters::{Count, Counters};
use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use std::sync::Arc;

const CALLS: &str = "elf_circuit_breaker_calls_total";
const TRANSITIONS: &str = "elf_circuit_breaker_transitions_total";

/// The breaker's metric handles.
#[derive(Debug)]
pub(crate) struct BreakerMetrics {
    calls: [Counter; 4],
    slow: Counter,
    transitions: [Counter; 5],
    state: Gauge,
    failure_rate: Gauge,
    slow_rate: Gauge,
    durations: Histogram,
}

impl BreakerMetrics {
    pub(crate) fn new(name: &Arc<str>) -> Self {
        let call = |outcome: &'static str| counter!(CALLS, "name" => name.clone(), "outcome" => outcome);
        let to = |s: CircuitState| counter!(TRANSITIONS, "name" => name.clone(), "to" => s.as_label());
        Self {
            calls: [call("success"), call("failure"), call("rejected"), call("ignored")],
            slow: counter!("elf_circuit_breaker_slow_calls_total", "name" => name.clone()),
            transitions: CircuitState::ALL.map(to),
            state: gauge!("elf_circuit_breaker_state", "name" => name.clone()),
            failure_rate: gauge!("elf_circuit_breaker_failure_rate", "name" => name.clone()),
            slow_rate: gauge!("elf_circuit_breaker_slow_call_rate", "name" => name.clone()),
            durations: histogram!("elf_circuit_breaker_call_duration_seconds", "name" => name.clone()),
        }
    }

    /// Publishes the call counters' current totals and the rates they give.
    pub(crate) fn publish(&self, counters: &Counters) {
        let all = [Count::Success, Count::Failure, Count::Rejected, Count::Ignored];
        for (handle, what) in self.calls.iter().zip(all) {
            handle.absolute(counters.get(what));
        }
        let slow = counters.get(Count::Slow);
        self.slow.absolute(slow);
        let (failed, judged) = (counters.get(Count::Failure), counters.get(Count::Success));
        let judged = judged + failed;
        self.failure_rate.set(ratio(failed, judged));
        self.slow_rate.set(ratio(slow, judged));
    }

    /// Records a transition into `to`.
    pub(crate) fn transition(&self, to: CircuitState) {
        self.transitions[to.as_code() as usize].increment(1);
        self.set_state(to);
    }

    /// Sets the state gauge.
    pub(crate) fn set_state(&self, state: CircuitState) {
        self.state.set(f64::from(state.as_code()));
    }

    /// Records one call's duration.
    #[inline]
    pub(crate) fn call_duration(&self, nanos: u64) {
        self.durations.record(nanos as f64 / 1e9);
    }
}

/// `part / whole`, 0 when `whole` is 0, at most 1.
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { (part as f64 / whole as f64).min(1.0) }
}
