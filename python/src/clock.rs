//! `ManualClock`: time that moves only when a test says so.

use elf_resilience::{Clock, ManualClock, SharedClock};
use pyo3::prelude::*;

use crate::convert::seconds;

/// A clock for tests: starts at 0 and moves only by `advance(seconds)`. Pass it to a
/// `CircuitBreaker(clock=...)` to see recovery timeouts pass without waiting.
#[pyclass(name = "ManualClock", module = "elf_resilience._native", frozen)]
#[derive(Debug, Default)]
pub(crate) struct PyManualClock {
    clock: ManualClock,
}

impl PyManualClock {
    pub(crate) fn shared(&self) -> SharedClock {
        self.clock.shared()
    }
}

#[pymethods]
impl PyManualClock {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `seconds`.
    fn advance(&self, secs: f64) -> PyResult<()> {
        self.clock.advance(seconds("seconds", secs)?);
        Ok(())
    }

    /// Seconds since the clock was made.
    fn now(&self) -> f64 {
        self.clock.now().as_secs_f64()
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyManualClock>()
}
