//! Durations in JSON as milliseconds (a float, to the nanosecond), as everywhere else in the
//! project's JSON (`duration_ms`, `elapsed_ms`).

use std::time::Duration;

use serde::Serializer;

/// `d` as a float of milliseconds.
pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// An optional duration as a float of milliseconds, or `null`.
pub(crate) fn serialize_opt<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => serialize(d, s),
        None => s.serialize_none(),
    }
}
