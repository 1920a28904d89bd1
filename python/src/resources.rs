//! The resource manager: `elf_resilience.ResourceManager` wraps this `Resources`.

use elf_resilience::{
    Context, GateReading, ResourceGate, ResourceManager, ResourceManagerBuilder, ResourceStatus, ResourceType,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::convert::{context, invalid, parse_enum, resource_status, seconds, to_python};
use crate::store::PyStore;

/// Forced readings: per resource, and per resource and model.
type Forced = HashMap<(ResourceType, Option<String>), (ResourceStatus, f64)>;

/// The manager, with statuses forced by `set_resource_status` (for chaos tests and drills)
/// taking precedence over its readings. It is also the fallback protocol's gate.
#[derive(Debug)]
pub(crate) struct ForcedGate {
    pub(crate) manager: ResourceManager,
    forced: Mutex<Forced>,
}

impl ForcedGate {
    /// The status forced for `ctx`'s model, else for the whole resource.
    fn forced(&self, resource: ResourceType, ctx: &Context) -> Option<(ResourceStatus, f64)> {
        let forced = self.forced.lock().unwrap_or_else(PoisonError::into_inner);
        if forced.is_empty() {
            return None;
        }
        let own = ctx.model.clone().and_then(|m| forced.get(&(resource, Some(m))).copied());
        own.or_else(|| forced.get(&(resource, None)).copied())
    }

    fn check_resource(&self, resource: ResourceType, ctx: &Context) -> (ResourceStatus, f64) {
        self.forced(resource, ctx).unwrap_or_else(|| self.manager.check_resource(resource, ctx))
    }
}

impl ResourceGate for ForcedGate {
    fn check(&self, resource: ResourceType, ctx: &Context) -> GateReading {
        match self.forced(resource, ctx) {
            Some((status, usage)) => {
                GateReading::new(status, usage).with_reason("forced by set_resource_status")
            }
            None => ResourceGate::check(&self.manager, resource, ctx),
        }
    }

    fn alternatives(&self, resource: ResourceType, ctx: &Context) -> Vec<String> {
        ResourceGate::alternatives(&self.manager, resource, ctx)
    }
}

/// A native resource manager.
#[pyclass(name = "Resources", module = "elf_resilience._native", frozen)]
#[derive(Debug)]
pub(crate) struct PyResources {
    pub(crate) gate: Arc<ForcedGate>,
}

fn thresholds(
    mut b: ResourceManagerBuilder,
    map: Option<&Bound<'_, PyDict>>,
    set: fn(ResourceManagerBuilder, ResourceType, f64) -> ResourceManagerBuilder,
) -> PyResult<ResourceManagerBuilder> {
    for (key, value) in map.into_iter().flat_map(|m| m.iter()) {
        b = set(b, parse_enum(&key)?, value.extract()?);
    }
    Ok(b)
}

fn alternatives(
    mut b: ResourceManagerBuilder,
    map: Option<&Bound<'_, PyDict>>,
) -> PyResult<ResourceManagerBuilder> {
    for (key, value) in map.into_iter().flat_map(|m| m.iter()) {
        let names: Vec<String> = value.extract()?;
        b = b.model_alternatives(&key.extract::<String>()?, names);
    }
    Ok(b)
}

/// Runs `fut` to completion on a runtime made for it, with the GIL released.
fn block_on<F: std::future::Future + Send>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F::Output: Send,
{
    py.detach(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(rt.block_on(fut))
    })
    .map_err(|e: std::io::Error| pyo3::exceptions::PyOSError::new_err(e.to_string()))
}

#[pymethods]
impl PyResources {
    #[new]
    #[pyo3(signature = (warning_thresholds=None, critical_thresholds=None, model_alternatives=None, default_probes=true, reading_ttl=30.0, store=None))]
    fn new(
        warning_thresholds: Option<&Bound<'_, PyDict>>,
        critical_thresholds: Option<&Bound<'_, PyDict>>,
        model_alternatives: Option<&Bound<'_, PyDict>>,
        default_probes: bool,
        reading_ttl: f64,
        store: Option<PyRef<'_, PyStore>>,
    ) -> PyResult<Self> {
        let mut b = ResourceManager::builder().reading_ttl(seconds("reading_ttl", reading_ttl)?);
        if let Some(quota) = store.and_then(|s| s.quota()) {
            b = b.quota_source(quota);
        }
        if default_probes {
            b = b.default_probes();
        }
        b = thresholds(b, warning_thresholds, ResourceManagerBuilder::warning_threshold)?;
        b = thresholds(b, critical_thresholds, ResourceManagerBuilder::critical_threshold)?;
        let manager = alternatives(b, model_alternatives)?.build().map_err(invalid)?;
        Ok(Self { gate: Arc::new(ForcedGate { manager, forced: Mutex::default() }) })
    }

    /// Samples the probes of `resource` (every probe when None) now, each cut at its timeout.
    #[pyo3(signature = (resource=None))]
    fn refresh(&self, py: Python<'_>, resource: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let manager = self.gate.manager.clone();
        match resource.map(parse_enum::<ResourceType>).transpose()? {
            Some(rt) => block_on(py, async move { manager.refresh(rt).await }),
            None => block_on(py, async move { manager.refresh_all().await }),
        }
    }

    /// `(status value, usage percent)` of `resource` for a call with `context`.
    #[pyo3(signature = (resource, context=None))]
    fn check_resource(
        &self,
        resource: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<(&'static str, f64)> {
        let (status, usage) = self.gate.check_resource(parse_enum(resource)?, &self::context(context)?);
        Ok((status.as_str(), usage))
    }

    /// The reading with its reason, as a dict.
    #[pyo3(signature = (resource, context=None))]
    fn reading<'py>(
        &self,
        py: Python<'py>,
        resource: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let reading = ResourceGate::check(&*self.gate, parse_enum(resource)?, &self::context(context)?);
        to_python(py, &(reading.status, reading.usage_percent, reading.reason))
    }

    /// Whether `resource` may be used now (anything but critical or exhausted).
    fn can_use_resource(&self, resource: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.gate.check_resource(parse_enum(resource)?, &Context::new()).0.is_usable())
    }

    /// The first usable alternative to what `context` names, as a dict, or None.
    #[pyo3(signature = (resource, context=None))]
    fn get_alternative_resource<'py>(
        &self,
        py: Python<'py>,
        resource: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let alt = self.gate.manager.get_alternative_resource(parse_enum(resource)?, &self::context(context)?);
        to_python(py, &alt)
    }

    /// Records `amount` of usage (tokens, requests, ...) of `resource` for `context`.
    #[pyo3(signature = (resource, amount, context=None))]
    fn record_usage(
        &self,
        resource: &Bound<'_, PyAny>,
        amount: f64,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.gate.manager.record_usage(parse_enum(resource)?, amount, &self::context(context)?);
        Ok(())
    }

    /// The report over the last `hours` hours, as a dict.
    #[pyo3(signature = (hours=24.0))]
    fn get_resource_report<'py>(&self, py: Python<'py>, hours: f64) -> PyResult<Bound<'py, PyAny>> {
        let period = seconds("hours", hours * 3600.0)?;
        let report = py.detach(|| self.gate.manager.resource_report(period));
        to_python(py, &report)
    }

    /// Forces `resource` (for calls naming `model` only, when given) to read `status` at
    /// `usage_percent` until `clear_resource_status`.
    #[pyo3(signature = (resource, status, usage_percent, model=None))]
    fn set_resource_status(
        &self,
        resource: &Bound<'_, PyAny>,
        status: &Bound<'_, PyAny>,
        usage_percent: f64,
        model: Option<String>,
    ) -> PyResult<()> {
        let (rt, status): (ResourceType, _) = (parse_enum(resource)?, resource_status(status)?);
        let mut forced = self.gate.forced.lock().unwrap_or_else(PoisonError::into_inner);
        forced.insert((rt, model), (status, usage_percent));
        Ok(())
    }

    /// Stops forcing `resource` (every resource when None).
    #[pyo3(signature = (resource=None))]
    fn clear_resource_status(&self, resource: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let rt = resource.map(parse_enum::<ResourceType>).transpose()?;
        let mut forced = self.gate.forced.lock().unwrap_or_else(PoisonError::into_inner);
        match rt {
            Some(rt) => forced.retain(|(r, _), _| *r != rt),
            None => forced.clear(),
        }
        Ok(())
    }

    /// Names of the probes of `resource`.
    fn probe_names(&self, resource: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        Ok(self.gate.manager.probe_names(parse_enum(resource)?))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyResources>()
}
