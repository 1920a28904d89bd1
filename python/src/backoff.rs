//! Backoff schedules. Each Python class holds a Rust backoff; `schedule()` starts a fresh run
//! of its delays, which the retry decorators sleep through (`time.sleep` / `asyncio.sleep`).

use elf_resilience::{
    AdaptiveBackoff, ExponentialBackoff, FibonacciBackoff, FixedDelay, Jitter, LinearBackoff,
};
use pyo3::prelude::*;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::convert::{invalid, seconds};

/// Any of the Rust backoffs, as one iterator.
#[derive(Debug, Clone)]
pub(crate) enum Policy {
    Exponential(ExponentialBackoff),
    Linear(LinearBackoff),
    Fixed(FixedDelay),
    Fibonacci(FibonacciBackoff),
    Adaptive(AdaptiveBackoff),
}

impl Iterator for Policy {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        match self {
            Policy::Exponential(b) => b.next(),
            Policy::Linear(b) => b.next(),
            Policy::Fixed(b) => b.next(),
            Policy::Fibonacci(b) => b.next(),
            Policy::Adaptive(b) => b.next(),
        }
    }
}

/// One run of a schedule: an iterator of delays in seconds; it ends when retries are used up.
#[pyclass(module = "elf_resilience._native", frozen)]
#[derive(Debug)]
pub(crate) struct Schedule {
    delays: Mutex<Policy>,
}

#[pymethods]
impl Schedule {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self) -> Option<f64> {
        self.delays.lock().unwrap_or_else(PoisonError::into_inner).next().map(|d| d.as_secs_f64())
    }
}

fn seeded<T>(b: T, seed: Option<u64>, with_seed: impl FnOnce(T, u64) -> T) -> T {
    match seed {
        Some(s) => with_seed(b, s),
        None => b,
    }
}

/// What every backoff class shares: a Rust schedule to run.
#[pyclass(name = "Backoff", module = "elf_resilience._native", subclass, frozen)]
#[derive(Debug)]
pub(crate) struct PyBackoff {
    policy: Policy,
}

impl PyBackoff {
    fn of(policy: Policy) -> Self {
        Self { policy }
    }

    /// The Rust schedule, for policies that take a backoff (the fallback protocol's retry).
    pub(crate) fn policy(&self) -> Policy {
        self.policy.clone()
    }
}

#[pymethods]
impl PyBackoff {
    /// A fresh run of the delays (seconds), for one retried call.
    fn schedule(&self) -> Schedule {
        Schedule { delays: Mutex::new(self.policy.clone()) }
    }

    /// The delays (seconds) one retried call would wait, in order (at most 10 000).
    fn delays(&self) -> Vec<f64> {
        self.policy.clone().take(10_000).map(|d| d.as_secs_f64()).collect()
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.policy)
    }
}

/// Delays that grow by a constant factor: `min(max_delay, base_delay * multiplier**n)`.
#[pyclass(name = "ExponentialBackoff", module = "elf_resilience._native", extends = PyBackoff, frozen)]
#[derive(Debug)]
pub(crate) struct PyExponential;

#[pymethods]
impl PyExponential {
    #[new]
    #[pyo3(signature = (max_retries=3, base_delay=1.0, multiplier=2.0, max_delay=60.0, jitter=false, seed=None))]
    fn new(
        max_retries: u32,
        base_delay: f64,
        multiplier: f64,
        max_delay: f64,
        jitter: bool,
        seed: Option<u64>,
    ) -> PyResult<(Self, PyBackoff)> {
        let b = ExponentialBackoff::try_new(
            max_retries,
            seconds("base_delay", base_delay)?,
            multiplier,
            seconds("max_delay", max_delay)?,
            jitter,
        )
        .map_err(invalid)?;
        Ok((Self, PyBackoff::of(Policy::Exponential(seeded(b, seed, ExponentialBackoff::with_seed)))))
    }
}

/// Delays that grow by a constant step: `min(max_delay, base_delay + increment * n)`.
#[pyclass(name = "LinearBackoff", module = "elf_resilience._native", extends = PyBackoff, frozen)]
#[derive(Debug)]
pub(crate) struct PyLinear;

#[pymethods]
impl PyLinear {
    #[new]
    #[pyo3(signature = (max_retries=3, base_delay=1.0, increment=None, max_delay=60.0, jitter=false, seed=None))]
    fn new(
        max_retries: u32,
        base_delay: f64,
        increment: Option<f64>,
        max_delay: f64,
        jitter: bool,
        seed: Option<u64>,
    ) -> PyResult<(Self, PyBackoff)> {
        let b = LinearBackoff::builder()
            .with_max_retries(max_retries)
            .with_base_delay(seconds("base_delay", base_delay)?)
            .with_increment(seconds("increment", increment.unwrap_or(base_delay))?)
            .with_max_delay(seconds("max_delay", max_delay)?)
            .with_jitter(Jitter::from(jitter))
            .build()
            .map_err(invalid)?;
        Ok((Self, PyBackoff::of(Policy::Linear(seeded(b, seed, LinearBackoff::with_seed)))))
    }
}

/// The same delay before every retry.
#[pyclass(name = "FixedDelay", module = "elf_resilience._native", extends = PyBackoff, frozen)]
#[derive(Debug)]
pub(crate) struct PyFixed;

#[pymethods]
impl PyFixed {
    #[new]
    #[pyo3(signature = (max_retries=3, delay=1.0, jitter=false, seed=None))]
    fn new(max_retries: u32, delay: f64, jitter: bool, seed: Option<u64>) -> PyResult<(Self, PyBackoff)> {
        let b = FixedDelay::new()
            .with_max_retries(max_retries)
            .with_delay(seconds("delay", delay)?)
            .with_jitter(Jitter::from(jitter));
        Ok((Self, PyBackoff::of(Policy::Fixed(seeded(b, seed, FixedDelay::with_seed)))))
    }
}

/// Delays along the Fibonacci sequence: base, base, 2 base, 3 base, 5 base, ... capped.
#[pyclass(name = "FibonacciBackoff", module = "elf_resilience._native", extends = PyBackoff, frozen)]
#[derive(Debug)]
pub(crate) struct PyFibonacci;

#[pymethods]
impl PyFibonacci {
    #[new]
    #[pyo3(signature = (max_retries=3, base_delay=1.0, max_delay=60.0, jitter=false, seed=None))]
    fn new(
        max_retries: u32,
        base_delay: f64,
        max_delay: f64,
        jitter: bool,
        seed: Option<u64>,
    ) -> PyResult<(Self, PyBackoff)> {
        let b = FibonacciBackoff::builder()
            .with_max_retries(max_retries)
            .with_base_delay(seconds("base_delay", base_delay)?)
            .with_max_delay(seconds("max_delay", max_delay)?)
            .with_jitter(Jitter::from(jitter))
            .build()
            .map_err(invalid)?;
        Ok((Self, PyBackoff::of(Policy::Fibonacci(seeded(b, seed, FibonacciBackoff::with_seed)))))
    }
}

/// A delay that shrinks after successes and grows after failures; every schedule of it
/// waits the delay learned so far.
#[pyclass(name = "AdaptiveBackoff", module = "elf_resilience._native", extends = PyBackoff, frozen)]
#[derive(Debug)]
pub(crate) struct PyAdaptive {
    learned: AdaptiveBackoff,
}

#[pymethods]
impl PyAdaptive {
    #[new]
    #[pyo3(signature = (initial_delay=1.0, success_reduction=0.5, failure_increase=2.0, min_delay=None, max_delay=60.0, max_retries=3))]
    fn new(
        initial_delay: f64,
        success_reduction: f64,
        failure_increase: f64,
        min_delay: Option<f64>,
        max_delay: f64,
        max_retries: u32,
    ) -> PyResult<(Self, PyBackoff)> {
        let min_delay = min_delay.unwrap_or(initial_delay.min(0.1));
        let b = AdaptiveBackoff::builder()
            .with_initial_delay(seconds("initial_delay", initial_delay)?)
            .with_success_reduction(success_reduction)
            .with_failure_increase(failure_increase)
            .with_min_delay(seconds("min_delay", min_delay)?)
            .with_max_delay(seconds("max_delay", max_delay)?)
            .with_max_retries(max_retries)
            .build()
            .map_err(invalid)?;
        Ok((Self { learned: b.clone() }, PyBackoff::of(Policy::Adaptive(b))))
    }

    /// Shrinks the learned delay by `success_reduction`.
    fn record_success(&self) {
        self.learned.record_success();
    }

    /// Grows the learned delay by `failure_increase`.
    fn record_failure(&self) {
        self.learned.record_failure();
    }

    /// The delay learned so far, in seconds.
    #[getter]
    fn current_delay(&self) -> f64 {
        self.learned.current_delay().as_secs_f64()
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Schedule>()?;
    m.add_class::<PyBackoff>()?;
    m.add_class::<PyExponential>()?;
    m.add_class::<PyLinear>()?;
    m.add_class::<PyFixed>()?;
    m.add_class::<PyFibonacci>()?;
    m.add_class::<PyAdaptive>()?;
    Ok(())
}
