//! A Python value carried through the Rust engine; cached as JSON when it is JSON-able.

use pyo3::prelude::*;
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Python object. Serializing it goes through `json.dumps` (so only JSON-able answers are
/// cached); deserializing through `json.loads`.
#[derive(Debug)]
pub(crate) struct PyValue(pub(crate) Py<PyAny>);

impl Serialize for PyValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Python::attach(|py| -> PyResult<String> {
            py.import("json")?.call_method1("dumps", (self.0.bind(py),))?.extract()
        })
        .map_err(S::Error::custom)?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(S::Error::custom)?;
        value.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = serde_json::Value::deserialize(d)?.to_string();
        Python::attach(|py| -> PyResult<Py<PyAny>> {
            Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
        })
        .map(PyValue)
        .map_err(D::Error::custom)
    }
}
