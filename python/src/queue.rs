//! `QUEUE_REQUEST` for Python: an in-memory queue per protocol, replayed by the Rust
//! `QueueWorker` through handlers that call the Python functions.

use elf_resilience::{Context, InMemoryQueue, QueueWorker, RequestQueue, ResourceGate, ResourceType, Ticket};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;

use crate::convert::{invalid, parse_enum, to_python};
use crate::health::submit_on_loop;
use crate::value::PyValue;

/// One registered replay handler: the resource it waits for and the Python function.
struct Replay {
    name: String,
    resource: ResourceType,
    func: Arc<Py<PyAny>>,
}

fn replays(handlers: &Bound<'_, PyDict>) -> PyResult<Vec<Replay>> {
    let mut out = Vec::new();
    for (name, spec) in handlers.iter() {
        let (resource, func): (Bound<'_, PyAny>, Py<PyAny>) = spec.extract()?;
        out.push(Replay { name: name.extract()?, resource: parse_enum(&resource)?, func: Arc::new(func) });
    }
    Ok(out)
}

/// Replays one queued call: `elf_resilience.fallback._replay(func, payload)`, on `event_loop`
/// when there is one, else on the calling thread.
async fn replay(
    event_loop: Option<Arc<Py<PyAny>>>,
    func: Arc<Py<PyAny>>,
    payload: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let call = Python::attach(|py| -> PyResult<_> {
        let replay = py.import("elf_resilience.fallback")?.getattr("_replay")?.unbind();
        let payload = to_python(py, &payload)?.unbind();
        Ok((replay, payload))
    });
    let (replay, payload) = call.map_err(|e| e.to_string())?;
    let result = match event_loop {
        Some(event_loop) => {
            let (event_loop, func) = Python::attach(|py| (event_loop.clone_ref(py), func.clone_ref(py)));
            submit_on_loop(event_loop, replay, vec![func, payload]).await
        }
        None => Python::attach(|py| {
            let run_sync = py.import("elf_resilience.fallback")?.getattr("_replay_sync")?;
            run_sync.call1((func.clone_ref(py), payload)).map(Bound::unbind)
        }),
    };
    let value = result.map_err(|e| Python::attach(|py| e.value(py).to_string()))?;
    serde_json::to_value(PyValue(value)).map_err(|e| format!("the replayed call's answer is not JSON: {e}"))
}

/// Leases every due call, replays those whose resource is usable, and returns the pass as a
/// dict (`delivered`, `succeeded`, `failed`, `gated`, ...).
pub(crate) fn process<'py>(
    py: Python<'py>,
    queue: &Arc<InMemoryQueue>,
    gate: Arc<dyn ResourceGate>,
    handlers: &Bound<'py, PyDict>,
    event_loop: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let event_loop = event_loop.map(Arc::new);
    let mut worker = QueueWorker::new(queue.clone(), gate);
    for Replay { name, resource, func } in replays(handlers)? {
        let event_loop = event_loop.clone();
        worker = worker.register(name, resource, move |payload, _ctx: Context| {
            replay(event_loop.clone(), func.clone(), payload)
        });
    }
    let pass = py.detach(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(invalid)?;
        rt.block_on(worker.run_once()).map_err(invalid)
    })?;
    to_python(py, &pass)
}

/// The status of `ticket` (`pending`, `leased`, `done`, `dead_lettered`), or None.
pub(crate) fn status(queue: &InMemoryQueue, ticket: String) -> PyResult<Option<&'static str>> {
    Ok(queue.status(&Ticket(ticket)).map_err(invalid)?.map(|s| s.as_str()))
}
