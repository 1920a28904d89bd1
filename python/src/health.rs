//! The health monitor: `elf_resilience.HealthMonitor` wraps this `Monitor`.
//!
//! The Rust monitor schedules the checks, applies timeouts and hysteresis, keeps history and
//! sends alerts, on a tokio runtime of its own (one worker thread, started on first use). Each
//! check's Python coroutine runs on the asyncio loop that started monitoring (or ran a check),
//! submitted with `asyncio.run_coroutine_threadsafe`; its result comes back through a oneshot
//! channel, so the loop is never blocked and the runtime never waits on the GIL.

use elf_resilience::{CheckOutcome, HealthCheck, HealthCheckResult, HealthMonitor, HealthStatus};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::convert::{invalid, seconds, to_python};
use crate::names::HEALTH_STATUSES;
use crate::resources::PyResources;

type Reply = oneshot::Sender<PyResult<Py<PyAny>>>;

/// The asyncio loop Python calls are submitted to.
#[derive(Debug, Default)]
struct LoopSlot(Mutex<Option<Py<PyAny>>>);

impl LoopSlot {
    fn set(&self, event_loop: Py<PyAny>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(event_loop);
    }

    fn get(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|l| l.clone_ref(py))
    }
}

/// Receives the end of a submitted call (`concurrent.futures.Future.add_done_callback`).
#[pyclass(module = "elf_resilience._native", frozen)]
struct Done {
    reply: Mutex<Option<Reply>>,
}

#[pymethods]
impl Done {
    fn __call__(&self, fut: &Bound<'_, PyAny>) {
        let result = fut.call_method0("result").map(Bound::unbind);
        if let Some(reply) = self.reply.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = reply.send(result);
        }
    }
}

/// Cancels the submitted call if the Rust side stops waiting (a timeout).
struct CancelOnDrop(Option<Py<PyAny>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(fut) = self.0.take() {
            Python::attach(|py| drop(fut.call_method0(py, "cancel")));
        }
    }
}

/// Calls `func(*args)` on the loop in `slot` (awaiting it if it returns an awaitable).
async fn call_on_loop(
    slot: &LoopSlot,
    func: &Py<PyAny>,
    arg: Option<HealthCheckResult>,
) -> PyResult<Py<PyAny>> {
    let (event_loop, func, args) = Python::attach(|py| -> PyResult<_> {
        let event_loop = slot
            .get(py)
            .ok_or_else(|| PyRuntimeError::new_err("no asyncio event loop: start monitoring first"))?;
        let args = match &arg {
            Some(result) => vec![result_object(py, result)?],
            None => Vec::new(),
        };
        Ok((event_loop, func.clone_ref(py), args))
    })?;
    submit_on_loop(event_loop, func, args).await
}

/// Calls `func(*args)` on `event_loop` from another thread, awaiting what it returns if it is
/// awaitable; the call is cancelled if the returned future is dropped first.
pub(crate) async fn submit_on_loop(
    event_loop: Py<PyAny>,
    func: Py<PyAny>,
    args: Vec<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let (tx, rx) = oneshot::channel();
    let submitted = Python::attach(|py| -> PyResult<Py<PyAny>> {
        let done = Done { reply: Mutex::new(Some(tx)) };
        let submit = py.import("elf_resilience.health")?.getattr("_submit")?;
        Ok(submit.call1((event_loop, func, args, done))?.unbind())
    })?;
    let mut guard = CancelOnDrop(Some(submitted));
    let result = rx.await.unwrap_or_else(|_| Err(PyRuntimeError::new_err("the event loop dropped the call")));
    guard.0 = None;
    result
}

/// A check's Python result as an outcome: a bool, a `HealthStatus` (or its value), or a
/// `(status_or_bool, message)` pair; an exception is unhealthy with its text.
fn outcome_of(result: PyResult<Py<PyAny>>) -> CheckOutcome {
    Python::attach(|py| match result {
        Ok(value) => judged(value.bind(py)).unwrap_or_else(|e| CheckOutcome::unhealthy(e.to_string())),
        Err(e) => CheckOutcome::unhealthy(describe(py, &e)),
    })
}

fn describe(py: Python<'_>, e: &PyErr) -> String {
    let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_default();
    format!("{kind}: {}", e.value(py))
}

fn judged(value: &Bound<'_, PyAny>) -> PyResult<CheckOutcome> {
    if let Ok((verdict, message)) = value.extract::<(Bound<'_, PyAny>, String)>() {
        let status = verdict_status(&verdict)?;
        return Ok(CheckOutcome { message: message.into(), ..outcome(status, "") });
    }
    let status = verdict_status(value)?;
    Ok(outcome(status, if status.is_healthy() { "check passed" } else { "check failed" }))
}

fn outcome(status: HealthStatus, message: &'static str) -> CheckOutcome {
    match status {
        HealthStatus::Healthy => CheckOutcome::healthy(message),
        HealthStatus::Degraded => CheckOutcome::degraded(message),
        _ => CheckOutcome::unhealthy(message),
    }
}

fn verdict_status(verdict: &Bound<'_, PyAny>) -> PyResult<HealthStatus> {
    if verdict.is_instance_of::<pyo3::types::PyBool>() || verdict.is_none() {
        return Ok(if verdict.is_truthy()? { HealthStatus::Healthy } else { HealthStatus::Unhealthy });
    }
    let text: String = if verdict.hasattr("value")? { verdict.getattr("value")? } else { verdict.clone() }
        .str()?
        .extract()?;
    HEALTH_STATUSES.into_iter().find(|s| s.as_str() == text).ok_or_else(|| {
        PyValueError::new_err(format!("a health check returned {text:?}, not a bool or HealthStatus"))
    })
}

fn result_object<'py>(py: Python<'py>, result: &HealthCheckResult) -> PyResult<Py<PyAny>> {
    Ok(to_python(py, result)?.unbind())
}

/// A native health monitor.
#[pyclass(name = "Monitor", module = "elf_resilience._native", frozen)]
pub(crate) struct PyMonitor {
    monitor: HealthMonitor,
    event_loop: Arc<LoopSlot>,
    runtime: OnceLock<Runtime>,
}

impl PyMonitor {
    fn runtime(&self) -> PyResult<&Runtime> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("elf-health")
            .enable_all()
            .build()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(self.runtime.get_or_init(|| rt))
    }
}

impl Drop for PyMonitor {
    /// Leaves the runtime's worker to end on its own: waiting for it here, with the GIL held,
    /// would deadlock a check that is waiting for the GIL.
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

#[pymethods]
impl PyMonitor {
    #[new]
    #[pyo3(signature = (alert_callback=None, history_capacity=100))]
    fn new(alert_callback: Option<Py<PyAny>>, history_capacity: usize) -> Self {
        let event_loop = Arc::new(LoopSlot::default());
        let mut b = HealthMonitor::builder().history_capacity(history_capacity);
        if let Some(callback) = alert_callback {
            let (slot, callback) = (event_loop.clone(), Arc::new(callback));
            b = b.alert_callback(move |result: HealthCheckResult| {
                let (slot, callback) = (slot.clone(), callback.clone());
                async move {
                    if let Err(e) = call_on_loop(&slot, &callback, Some(result)).await {
                        Python::attach(|py| e.print(py));
                    }
                }
            });
        }
        Self { monitor: b.build(), event_loop, runtime: OnceLock::new() }
    }

    /// Registers `check_func` (an async function) as a check.
    #[pyo3(signature = (name, check_func, interval=30.0, timeout=10.0, critical=false, failure_threshold=3, success_threshold=1))]
    #[allow(clippy::too_many_arguments)]
    fn register_check(
        &self,
        name: &str,
        check_func: Py<PyAny>,
        interval: f64,
        timeout: f64,
        critical: bool,
        failure_threshold: u32,
        success_threshold: u32,
    ) -> PyResult<()> {
        let (slot, func) = (self.event_loop.clone(), Arc::new(check_func));
        let check = HealthCheck::builder(name, move || {
            let (slot, func) = (slot.clone(), func.clone());
            async move { outcome_of(call_on_loop(&slot, &func, None).await) }
        })
        .interval(seconds("interval", interval)?)
        .timeout(seconds("timeout", timeout)?)
        .critical(critical)
        .failure_threshold(failure_threshold)
        .success_threshold(success_threshold)
        .build()
        .map_err(invalid)?;
        self.monitor.register_check(check).map_err(invalid)
    }

    /// Registers the default `cpu`, `memory`, `api_quota` and `disk` checks over `resources`.
    fn register_default_checks(&self, resources: PyRef<'_, PyResources>) -> PyResult<Vec<String>> {
        self.monitor.register_default_checks(&resources.gate.manager).map_err(invalid)
    }

    /// Starts the scheduler; Python checks run on `event_loop`.
    fn start_monitoring(&self, py: Python<'_>, event_loop: Py<PyAny>) -> PyResult<()> {
        self.event_loop.set(event_loop);
        let rt = self.runtime()?;
        py.detach(|| rt.block_on(self.monitor.start_monitoring()));
        Ok(())
    }

    /// Stops the scheduler and waits for runs in flight.
    fn stop_monitoring(&self, py: Python<'_>) -> PyResult<()> {
        let rt = self.runtime()?;
        py.detach(|| rt.block_on(self.monitor.stop()));
        Ok(())
    }

    /// Whether the scheduler runs.
    fn is_monitoring(&self) -> bool {
        self.monitor.is_monitoring()
    }

    /// Runs the check `name` now (blocking: call it from a worker thread), its Python
    /// coroutine on `event_loop`; returns the result as a dict.
    fn run_check_now(&self, py: Python<'_>, name: &str, event_loop: Py<PyAny>) -> PyResult<Py<PyAny>> {
        if self.event_loop.get(py).is_none() {
            self.event_loop.set(event_loop);
        }
        let rt = self.runtime()?;
        let result = py.detach(|| rt.block_on(self.monitor.run_check_now(name))).map_err(invalid)?;
        result_object(py, &result)
    }

    /// The status value of check `name`, or of all checks together when None.
    #[pyo3(signature = (name=None))]
    fn get_health_status(&self, name: Option<&str>) -> &'static str {
        self.monitor.get_health_status(name).as_str()
    }

    /// The report: overall status and every check with its history, as a dict.
    fn get_health_report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.monitor.get_health_report())
    }

    /// The names of the registered checks.
    fn check_names(&self) -> Vec<String> {
        self.monitor.check_names()
    }

    /// Waits until every queued alert was delivered (blocking: call from a worker thread).
    fn alerts_idle(&self, py: Python<'_>) -> PyResult<()> {
        let rt = self.runtime()?;
        py.detach(|| rt.block_on(self.monitor.alerts_idle()));
        Ok(())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Done>()?;
    m.add_class::<PyMonitor>()
}
