//! The circuit breaker: `elf_resilience.CircuitBreaker` wraps this `Breaker`.

use elf_resilience::{
    CircuitBreaker, CircuitBreakerError, CircuitOpen, CircuitState, CircuitStats, OwnedCircuitPermit,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::clock::PyManualClock;
use crate::convert::{invalid, seconds};
use crate::store::registry;

create_exception!(
    elf_resilience._native,
    CircuitBreakerOpen,
    PyException,
    "Raised instead of running a call while the breaker is open: \"Circuit breaker 'NAME' is OPEN; retry in 12.3s\". Attributes: `name`, `state`, `retry_after` (seconds, or None)."
);

/// The Python exception for a rejection, with its attributes.
fn open_error(py: Python<'_>, open: &CircuitOpen) -> PyErr {
    let err = CircuitBreakerOpen::new_err(open.to_string());
    let value = err.value(py);
    let retry_after = open.retry_after.map(|d| d.as_secs_f64());
    let set = value
        .setattr("name", &*open.name)
        .and_then(|()| value.setattr("state", open.state.as_str()))
        .and_then(|()| value.setattr("retry_after", retry_after));
    set.err().unwrap_or(err)
}

/// A call's outcome as a Python result: the call's own exception (the same object) or the
/// rejection.
pub(crate) fn into_py_result<T>(
    py: Python<'_>,
    result: Result<T, CircuitBreakerError<PyErr>>,
) -> PyResult<T> {
    result.map_err(|e| match e.as_open() {
        Some(open) => open_error(py, open),
        None => e.into_inner().unwrap_or_else(|| PyRuntimeError::new_err("circuit breaker: unknown error")),
    })
}

/// A native circuit breaker, shared by every handle that has the same breaker.
#[pyclass(name = "Breaker", module = "elf_resilience._native", frozen)]
#[derive(Debug)]
pub(crate) struct PyBreaker {
    inner: CircuitBreaker,
}

/// Counts an error as a failure only if it is an instance of `expected` (a class or a tuple).
fn expected_filter(expected: Py<PyAny>) -> impl Fn(&PyErr) -> bool + Send + Sync + 'static {
    move |e: &PyErr| Python::attach(|py| e.is_instance(py, expected.bind(py)))
}

impl PyBreaker {
    /// The Rust breaker.
    pub(crate) fn inner(&self) -> &CircuitBreaker {
        &self.inner
    }
}

#[pymethods]
impl PyBreaker {
    #[new]
    #[pyo3(signature = (failure_threshold=5, recovery_timeout=60.0, expected_exception=None, name="default", half_open_max_calls=1, clock=None))]
    fn new(
        failure_threshold: u32,
        recovery_timeout: f64,
        expected_exception: Option<Py<PyAny>>,
        name: &str,
        half_open_max_calls: u32,
        clock: Option<PyRef<'_, PyManualClock>>,
    ) -> PyResult<Self> {
        let mut builder = CircuitBreaker::builder()
            .name(name)
            .failure_threshold(failure_threshold)
            .recovery_timeout(seconds("recovery_timeout", recovery_timeout)?)
            .half_open_permits(half_open_max_calls);
        if let Some(expected) = expected_exception {
            builder = builder.record_error_if(expected_filter(expected));
        }
        if let Some(clock) = clock {
            builder = builder.clock(clock.shared());
        }
        let inner = builder.build().map_err(invalid)?;
        let registry = registry();
        registry.remove(name);
        Ok(Self { inner: registry.register(inner) })
    }

    /// The breaker's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The state: `CLOSED`, `OPEN`, `HALF_OPEN`, `FORCED_OPEN` or `DISABLED`.
    #[getter]
    fn state(&self) -> &'static str {
        self.inner.state().as_str()
    }

    /// Runs `func(*args, **kwargs)` through the breaker.
    #[pyo3(signature = (func, *args, **kwargs))]
    fn call(
        &self,
        py: Python<'_>,
        func: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let result = self.inner.call(|| func.call(args, kwargs).map(Bound::unbind));
        into_py_result(py, result)
    }

    /// Admits one call (or raises `CircuitBreakerOpen`); report its end on the permit.
    fn acquire(&self, py: Python<'_>) -> PyResult<Permit> {
        let permit = self.inner.try_acquire_owned().map_err(|open| open_error(py, &open))?;
        Ok(Permit { permit: Mutex::new(Some(permit)) })
    }

    /// The statistics, as the spec's `get_stats()` dict.
    fn get_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        stats_dict(py, &self.inner.stats())
    }

    /// Opens the breaker now, for the recovery timeout.
    fn trip(&self) {
        self.inner.trip();
    }

    /// Closes the breaker and forgets its failures.
    fn reset(&self) {
        self.inner.reset();
    }

    /// Opens the breaker until `reset()`.
    fn force_open(&self) {
        self.inner.force_open();
    }

    /// Opens the breaker for `seconds` (e.g. a provider's Retry-After).
    fn open_for(&self, secs: f64) -> PyResult<()> {
        self.inner.open_for(seconds("seconds", secs)?);
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("CircuitBreaker(name={:?}, state={})", self.inner.name(), self.inner.state().as_str())
    }
}

/// One admitted call, reported once with `success()` or `error(exc)`. A permit dropped
/// unreported counts as a failure.
#[pyclass(module = "elf_resilience._native", frozen)]
#[derive(Debug)]
pub(crate) struct Permit {
    permit: Mutex<Option<OwnedCircuitPermit>>,
}

impl Permit {
    fn take(&self) -> Option<OwnedCircuitPermit> {
        self.permit.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

#[pymethods]
impl Permit {
    /// Reports a successful call.
    fn success(&self) {
        if let Some(p) = self.take() {
            p.success();
        }
    }

    /// Reports the exception the call raised (a failure if the breaker counts it).
    fn error(&self, exc: Bound<'_, PyAny>) {
        if let Some(p) = self.take() {
            p.error(&PyErr::from_value(exc));
        }
    }
}

fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

fn stats_dict<'py>(py: Python<'py>, s: &CircuitStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &s.name)?;
    d.set_item("state", s.state.as_str())?;
    d.set_item("total_calls", s.total_calls)?;
    d.set_item("successful_calls", s.successful_calls)?;
    d.set_item("failed_calls", s.failed_calls)?;
    d.set_item("rejected_calls", s.rejected_calls)?;
    d.set_item("ignored_calls", s.ignored_calls)?;
    d.set_item("slow_calls", s.slow_calls)?;
    d.set_item("success_rate", s.success_rate)?;
    d.set_item("consecutive_failures", s.consecutive_failures)?;
    d.set_item("time_in_state", s.time_in_state.as_secs_f64())?;
    let per_state = PyDict::new(py);
    for state in CircuitState::ALL {
        per_state.set_item(state.as_str(), s.time_in_states.get(state).as_secs_f64())?;
    }
    d.set_item("time_in_states", per_state)?;
    d.set_item("transitions", s.transitions)?;
    d.set_item("last_state_change", unix_secs(s.last_transition_wall))?;
    Ok(d)
}

/// Every breaker in the process-wide registry, sorted by name.
#[pyfunction]
fn all_breakers() -> Vec<PyBreaker> {
    registry().all().into_iter().map(|inner| PyBreaker { inner }).collect()
}

/// The breaker called `name`, if there is one.
#[pyfunction]
fn get_breaker(name: &str) -> Option<PyBreaker> {
    registry().get(name).map(|inner| PyBreaker { inner })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CircuitBreakerOpen", m.py().get_type::<CircuitBreakerOpen>())?;
    m.add_class::<PyBreaker>()?;
    m.add_class::<Permit>()?;
    m.add_function(wrap_pyfunction!(all_breakers, m)?)?;
    m.add_function(wrap_pyfunction!(get_breaker, m)?)?;
    Ok(())
}
