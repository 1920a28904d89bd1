//! Transition listeners and tracing events.

use super::CircuitState;
use std::fmt;
use std::sync::Arc;

/// A function called on every state transition with `(from, to)`.
pub type StateListener = Arc<dyn Fn(CircuitState, CircuitState) + Send + Sync>;

/// The listeners of one breaker.
#[derive(Clone, Default)]
pub(crate) struct Listeners(Vec<StateListener>);

impl fmt::Debug for Listeners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Listeners({})", self.0.len())
    }
}

impl Listeners {
    pub(crate) fn push(&mut self, listener: StateListener) {
        self.0.push(listener);
    }

    /// Emits the tracing event and calls every listener, in the order they were added.
    ///
    /// Runs on the thread that made the transition, after the state changed and with no lock
    /// held, so a listener may call back into the breaker.
    pub(crate) fn notify(&self, name: &str, from: CircuitState, to: CircuitState) {
        match to {
            CircuitState::Open | CircuitState::ForcedOpen => {
                tracing::warn!(breaker = name, %from, %to, "circuit breaker opened");
            }
            _ => tracing::info!(breaker = name, %from, %to, "circuit breaker state changed"),
        }
        for listener in &self.0 {
            listener(from, to);
        }
    }
}
