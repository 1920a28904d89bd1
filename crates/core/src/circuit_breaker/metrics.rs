//! `metrics` handles, resolved once per breaker.
//!
//! Nothing here runs per call. Call outcomes are counted in the breaker's own striped
//! counters and published to the call counters as absolute values on every transition, on
//! every [`stats`](super::CircuitBreaker::stats) and on
//! [`publish_metrics`](super::CircuitBreaker::publish_metrics) (which a `/metrics` handler
//! calls, through [`CircuitBreakerRegistry::publish_metrics`](super::CircuitBreakerRegistry::publish_metrics),
//! before rendering). Handles are registered when the breaker is built: install the recorder
//! before building breakers.
//!
//! | name | kind | labels |
//! |------|------|--------|
//! | `elf_circuit_breaker_calls_total` | counter | `name`, `outcome` (success, failure, rejected, ignored) |
//! | `elf_circuit_breaker_slow_calls_total` | counter | `name` |
//! | `elf_circuit_breaker_transitions_total` | counter | `name`, `to` |
//! | `elf_circuit_breaker_state` | gauge | `name` (0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled) |

use super::CircuitState;
use super::counters::{Count, Counters};
use metrics::{Counter, Gauge, counter, gauge};
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
}

impl BreakerMetrics {
    pub(crate) fn new(name: &Arc<str>) -> Self {
        let call = |outcome: &'static str| counter!(CALLS, "name" => name.clone(), "outcome" => outcome);
        let to = |s: CircuitState| counter!(TRANSITIONS, "name" => name.clone(), "to" => s.as_str());
        Self {
            calls: [call("success"), call("failure"), call("rejected"), call("ignored")],
            slow: counter!("elf_circuit_breaker_slow_calls_total", "name" => name.clone()),
            transitions: CircuitState::ALL.map(to),
            state: gauge!("elf_circuit_breaker_state", "name" => name.clone()),
        }
    }

    /// Publishes the call counters' current totals.
    pub(crate) fn publish(&self, counters: &Counters) {
        let all = [Count::Success, Count::Failure, Count::Rejected, Count::Ignored];
        for (handle, what) in self.calls.iter().zip(all) {
            handle.absolute(counters.get(what));
        }
        self.slow.absolute(counters.get(Count::Slow));
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
}
