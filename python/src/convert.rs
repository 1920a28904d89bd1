//! Conversions at the Python edge: seconds, enum members, configuration errors.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::str::FromStr;
use std::time::Duration;

/// Seconds (int or float, finite, not negative) as a `Duration`.
pub(crate) fn seconds(field: &str, secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| PyValueError::new_err(format!("{field} must be a finite number of seconds >= 0, got {secs}")))
}

/// A configuration error from a Rust builder, as `ValueError`.
pub(crate) fn invalid(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The text of an enum member (its `.value`) or of a plain string.
fn enum_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let value = if obj.hasattr("value")? { obj.getattr("value")? } else { obj.clone() };
    value.extract::<String>().map_err(|_| PyTypeError::new_err(format!("expected an enum member or a string, got {obj}")))
}

/// An enum member (or its value) as the Rust enum `T`.
pub(crate) fn parse_enum<T: FromStr>(obj: &Bound<'_, PyAny>) -> PyResult<T>
where
    T::Err: std::fmt::Display,
{
    T::from_str(&enum_text(obj)?).map_err(invalid)
}
