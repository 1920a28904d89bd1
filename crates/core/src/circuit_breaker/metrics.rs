//! `metrics` handles, resolved once per breaker.
//!
//! Handles are registered when the breaker is built, so a call costs one branch when no
//! recorder is installed and never allocates. Install the recorder before building breakers.
//!
//! | name | kind | labels |
//! |------|------|--------|
//! | `elf_circuit_breaker_calls_total` | counter | `name`, `outcome` (success, failure, rejected, ignored) |
//! | `elf_circuit_breaker_slow_calls_total` | counter | `name` |
//! | `elf_circuit_breaker_transitions_total` | counter | `name`, `to` |
//! | `elf_circuit_breaker_state` | gauge | `name` (0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled) |

use super::CircuitState;
use super::stats::Count;
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

    /// Counts one call outcome.
    #[inline]
    pub(crate) fn call(&self, what: Count) {
        match what {
            Count::Slow => self.slow.increment(1),
            other => self.calls[other as usize].increment(1),
        }
    }

    /// Records a transition into `to`.
    pub(crate) fn transition(&self, to: CircuitState) {
        self.transitions[to.as_code() as usize].increment(1);
        self.state.set(f64::from(to.as_code()));
    }
}
