//! The fallback protocol: `elf_resilience.FallbackProtocol` wraps this `Protocol`.

use elf_resilience::{
    Attempt, CircuitBreakerRegistry, FallbackError as RustFallbackError, FallbackEvent, FallbackProtocol,
    FallbackProtocolBuilder, FallbackRequest, FallbackStrategy, InMemoryCache, InMemoryQueue, Outcome,
    ResourceType, StaticGate,
};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::sync::Arc;

use crate::backoff::PyBackoff;
use crate::breaker::CircuitBreakerOpen;
use crate::convert::{context, invalid, parse_enum, seconds, to_python};
use crate::names::{FALLBACK_STAGES, stage_value};
use crate::resources::PyResources;
use crate::value::PyValue;

create_exception!(
    elf_resilience._native,
    FallbackError,
    PyException,
    "No strategy produced an answer. Attributes: `kind` (exhausted, shed, queued), `resource`, `trace` (dict)."
);

create_exception!(
    elf_resilience._native,
    RequestQueued,
    FallbackError,
    "The call was queued for later (QUEUE_REQUEST). Attribute `ticket`: see `FallbackProtocol.ticket_status`."
);

/// What one call of the wrapped function is asked to do: which provider, how degraded.
#[pyclass(name = "Attempt", module = "elf_resilience._native", frozen)]
#[derive(Debug)]
pub(crate) struct PyAttempt {
    attempt: Attempt,
}

#[pymethods]
impl PyAttempt {
    /// 1 for the first call, then 2, 3, ...
    #[getter]
    fn number(&self) -> u32 {
        self.attempt.number
    }

    /// The strategy that made this call (`retry`, `switch_provider`, ...), None for the first.
    #[getter]
    fn strategy(&self) -> Option<&'static str> {
        self.attempt.strategy.map(FallbackStrategy::as_str)
    }

    /// The provider (model) to call, when one is chosen.
    #[getter]
    fn provider(&self) -> Option<&str> {
        self.attempt.provider.as_deref()
    }

    /// The quality level: 0 is full quality.
    #[getter]
    fn degrade_level(&self) -> usize {
        self.attempt.degrade.level
    }

    /// `full` max_tokens at this quality level.
    fn max_tokens(&self, full: u32) -> u32 {
        self.attempt.max_tokens(full)
    }

    /// `full` temperature at this quality level.
    fn temperature(&self, full: f32) -> f32 {
        self.attempt.temperature(full)
    }

    /// `full` batch size at this quality level.
    fn batch_size(&self, full: usize) -> usize {
        self.attempt.batch_size(full)
    }

    /// Whether this call runs at full quality.
    fn is_full(&self) -> bool {
        self.attempt.degrade.is_full()
    }

    fn __repr__(&self) -> String {
        format!(
            "Attempt(number={}, strategy={:?}, provider={:?}, degrade_level={})",
            self.attempt.number,
            self.strategy(),
            self.attempt.provider,
            self.attempt.degrade.level
        )
    }
}

/// A native fallback protocol.
#[pyclass(name = "Protocol", module = "elf_resilience._native", frozen)]
#[derive(Debug)]
pub(crate) struct PyProtocol {
    protocol: FallbackProtocol,
    queue: Arc<InMemoryQueue>,
}

fn strategies(list: &Bound<'_, PyAny>) -> PyResult<Vec<FallbackStrategy>> {
    list.try_iter()?.map(|s| parse_enum(&s?)).collect()
}

#[pymethods]
impl PyProtocol {
    #[new]
    #[pyo3(signature = (resource_manager=None, providers=Vec::new(), retry_backoff=None, orders=None, cache_size=1024, cache_ttl=300.0, max_staleness=3600.0, concurrency_limit=None, hooks=Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        resource_manager: Option<PyRef<'_, PyResources>>,
        providers: Vec<String>,
        retry_backoff: Option<PyRef<'_, PyBackoff>>,
        orders: Option<&Bound<'_, PyDict>>,
        cache_size: usize,
        cache_ttl: f64,
        max_staleness: f64,
        concurrency_limit: Option<usize>,
        hooks: Vec<(Option<String>, Py<PyAny>)>,
    ) -> PyResult<Self> {
        let queue = Arc::new(InMemoryQueue::new());
        let mut b = FallbackProtocol::builder()
            .queue(queue.clone())
            .providers(providers)
            .breakers(Arc::new(CircuitBreakerRegistry::default()));
        b = match resource_manager {
            Some(rm) => b.gate(rm.gate.clone()),
            None => b.gate(Arc::new(StaticGate::new())),
        };
        if let Some(backoff) = retry_backoff {
            b = b.retry_backoff(backoff.policy());
        }
        for (resource, order) in orders.into_iter().flat_map(|o| o.iter()) {
            b = b.order(parse_enum(&resource)?, strategies(&order)?);
        }
        if cache_size > 0 {
            let cache = InMemoryCache::new(cache_size).map_err(invalid)?;
            b = b.cache(
                Arc::new(cache),
                seconds("cache_ttl", cache_ttl)?,
                seconds("max_staleness", max_staleness)?,
            );
        }
        if let Some(limit) = concurrency_limit {
            b = b.concurrency_limit(limit);
        }
        for (stage, hook) in hooks {
            b = add_hook(b, stage.as_deref(), hook)?;
        }
        Ok(Self { protocol: b.build().map_err(invalid)?, queue })
    }

    /// Runs `op(attempt)` for `resource`, applying the strategies in order (the resource's
    /// default order unless `strategies` is given). Blocks with the GIL released between calls.
    #[pyo3(signature = (op, resource, context=None, strategies=None, cache_key=None, queue=None))]
    #[allow(clippy::too_many_arguments)]
    fn execute(
        &self,
        py: Python<'_>,
        op: Py<PyAny>,
        resource: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyDict>>,
        strategies: Option<&Bound<'_, PyList>>,
        cache_key: Option<String>,
        queue: Option<(String, Py<PyAny>)>,
    ) -> PyResult<Py<PyAny>> {
        let resource: ResourceType = parse_enum(resource)?;
        let mut req = FallbackRequest::<PyValue>::new(resource).context(self::context(context)?);
        if let Some(list) = strategies {
            req = req.strategies(self::strategies(list.as_any())?);
        }
        if let Some(key) = cache_key {
            req = req.cache_key(key);
        }
        // A call whose arguments are not JSON is not queued: QUEUE_REQUEST skips it.
        if let Some((handler, payload)) = queue
            && let Ok(json) = serde_json::to_value(PyValue(payload))
        {
            req = req.queue_payload(handler, json);
        }
        let call =
            |attempt: Attempt| Python::attach(|py| op.call1(py, (PyAttempt { attempt },)).map(PyValue));
        let result = py.detach(|| self.protocol.execute_request_blocking(req, call));
        into_py_result(py, resource, result)
    }

    /// The strategy order used for `resource` when a call names none (strategy values).
    fn order_for(&self, resource: &Bound<'_, PyAny>) -> PyResult<Vec<&'static str>> {
        Ok(self.protocol.order_for(parse_enum(resource)?).iter().map(|s| s.as_str()).collect())
    }

    /// How many executions are running now.
    fn in_flight(&self) -> usize {
        self.protocol.in_flight()
    }

    /// Replays the queued calls whose resource is usable through `handlers`
    /// (`{name: (resource, func)}`), async ones on `event_loop`; returns the pass as a dict.
    #[pyo3(signature = (handlers, event_loop=None))]
    fn process_queue<'py>(
        &self,
        py: Python<'py>,
        handlers: &Bound<'py, PyDict>,
        event_loop: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::queue::process(py, &self.queue, self.protocol.gate().clone(), handlers, event_loop)
    }

    /// The status of a queued call's ticket, or None.
    fn ticket_status(&self, ticket: String) -> PyResult<Option<&'static str>> {
        crate::queue::status(&self.queue, ticket)
    }
}

/// Adds a Python hook at `stage` (every stage when None); it runs through
/// `elf_resilience.fallback._run_hook`, and an exception in it is printed, not raised.
fn add_hook(
    b: FallbackProtocolBuilder,
    stage: Option<&str>,
    hook: Py<PyAny>,
) -> PyResult<FallbackProtocolBuilder> {
    let hook = Arc::new(hook);
    let run = move |event: FallbackEvent| {
        let hook = hook.clone();
        async move {
            Python::attach(|py| {
                let called = to_python(py, &event).and_then(|ev| {
                    py.import("elf_resilience.fallback")?
                        .getattr("_run_hook")?
                        .call1((hook.clone_ref(py), ev))
                });
                if let Err(e) = called {
                    e.print(py);
                }
            })
        }
    };
    Ok(match stage {
        None => b.on_event(run),
        Some(value) => {
            let stage = FALLBACK_STAGES.into_iter().find(|s| stage_value(*s) == value);
            let stage = stage.ok_or_else(|| invalid(format!("unknown fallback stage {value:?}")))?;
            b.add_stage_hook(stage, run)
        }
    })
}

fn into_py_result(
    py: Python<'_>,
    resource: ResourceType,
    result: Result<Outcome<PyValue>, RustFallbackError<PyErr>>,
) -> PyResult<Py<PyAny>> {
    match result {
        Ok(Outcome::Value { value, .. }) => Ok(value.0),
        Ok(Outcome::Queued { ticket, trace }) => Err(queued(py, resource, &ticket.0, &trace)),
        Err(e) if e.is_circuit_open() => Err(CircuitBreakerOpen::new_err(circuit_message(&e))),
        Err(e) => {
            let kind = if e.is_shed() { "shed" } else { "exhausted" };
            let (message, trace) = (e.to_string(), e.trace().clone());
            match e.into_inner() {
                Some(last) => Err(last),
                None => Err(rejection(py, kind, resource, &message, &trace)),
            }
        }
    }
}

fn circuit_message(e: &RustFallbackError<PyErr>) -> String {
    let name = match e {
        RustFallbackError::CircuitOpen { name, .. } => name.as_str(),
        _ => "fallback",
    };
    match e.retry_after() {
        Some(d) => format!("Circuit breaker '{name}' is OPEN; retry in {:.1}s", d.as_secs_f64()),
        None => format!("Circuit breaker '{name}' is OPEN"),
    }
}

fn queued(py: Python<'_>, resource: ResourceType, ticket: &str, trace: &impl serde::Serialize) -> PyErr {
    let err = RequestQueued::new_err(format!("the call was queued as ticket {ticket}"));
    let value = err.value(py);
    let set = value
        .setattr("kind", "queued")
        .and_then(|()| value.setattr("ticket", ticket))
        .and_then(|()| value.setattr("resource", resource.as_str()))
        .and_then(|()| value.setattr("trace", to_python(py, trace)?));
    set.err().unwrap_or(err)
}

fn rejection(
    py: Python<'_>,
    kind: &str,
    resource: ResourceType,
    message: &str,
    trace: &impl serde::Serialize,
) -> PyErr {
    let err = FallbackError::new_err(message.to_owned());
    let value = err.value(py);
    let set = value
        .setattr("kind", kind)
        .and_then(|()| value.setattr("resource", resource.as_str()))
        .and_then(|()| value.setattr("trace", to_python(py, trace)?));
    set.err().unwrap_or(err)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("FallbackError", m.py().get_type::<FallbackError>())?;
    m.add("RequestQueued", m.py().get_type::<RequestQueued>())?;
    m.add_class::<PyAttempt>()?;
    m.add_class::<PyProtocol>()?;
    Ok(())
}
