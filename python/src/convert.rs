//! Conversions at the Python edge: seconds, enum members, configuration errors.

use elf_resilience::{Context, Priority, ResourceStatus};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::str::FromStr;
use std::time::Duration;

/// Seconds (int or float, finite, not negative) as a `Duration`.
pub(crate) fn seconds(field: &str, secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        PyValueError::new_err(format!("{field} must be a finite number of seconds >= 0, got {secs}"))
    })
}

/// A configuration error from a Rust builder, as `ValueError`.
pub(crate) fn invalid(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The text of an enum member (its `.value`) or of a plain string.
fn enum_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let value = if obj.hasattr("value")? { obj.getattr("value")? } else { obj.clone() };
    value
        .extract::<String>()
        .map_err(|_| PyTypeError::new_err(format!("expected an enum member or a string, got {obj}")))
}

/// An enum member (or its value) as the Rust enum `T`.
pub(crate) fn parse_enum<T: FromStr>(obj: &Bound<'_, PyAny>) -> PyResult<T>
where
    T::Err: std::fmt::Display,
{
    T::from_str(&enum_text(obj)?).map_err(invalid)
}

/// The spec's `context` dict as a `Context`: `team_name`, `model`, `operation` and `priority`
/// (`low` ... `critical`) are its fields; every other key becomes a tag (its value as `str()`).
pub(crate) fn context(ctx: Option<&Bound<'_, PyDict>>) -> PyResult<Context> {
    let mut out = Context::new();
    let Some(ctx) = ctx else { return Ok(out) };
    for (key, value) in ctx.iter() {
        let key: String = key.str()?.extract()?;
        if value.is_none() {
            continue;
        }
        let text: String = value.str()?.extract()?;
        match key.as_str() {
            "team_name" | "team" => out.team_name = Some(text),
            "model" => out.model = Some(text),
            "operation" => out.operation = Some(text),
            "priority" => out.priority = priority(&enum_text(&value).unwrap_or(text))?,
            _ => {
                out.tags.insert(key, text);
            }
        }
    }
    Ok(out)
}

fn priority(text: &str) -> PyResult<Priority> {
    serde_json::from_value(serde_json::Value::String(text.to_lowercase())).map_err(|_| {
        PyValueError::new_err(format!("unknown priority {text:?} (low, normal, high, critical)"))
    })
}

/// A Rust value as a Python object, through JSON (`json.loads` of its serde form).
pub(crate) fn to_python<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// A `ResourceStatus` member (or its value).
pub(crate) fn resource_status(obj: &Bound<'_, PyAny>) -> PyResult<ResourceStatus> {
    let text = enum_text(obj)?;
    crate::names::RESOURCE_STATUSES
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| PyValueError::new_err(format!("unknown resource status {text:?}")))
}
