//! `@with_circuit_breaker` on a sync function: the decorated function is a `Guarded`, a native
//! callable, so a call goes straight into the Rust breaker with no Python frame in between.

use elf_resilience::CircuitBreaker;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::breaker::{PyBreaker, into_py_result};

/// A function guarded by a breaker: calling it runs the function through the breaker. It
/// takes the function's attributes (`functools.update_wrapper`) and binds as a method.
#[pyclass(module = "elf_resilience._native", frozen, dict, weakref)]
#[derive(Debug)]
pub(crate) struct Guarded {
    breaker: CircuitBreaker,
    func: Py<PyAny>,
}

#[pymethods]
impl Guarded {
    #[new]
    fn new(breaker: PyRef<'_, PyBreaker>, func: Py<PyAny>) -> Self {
        Self { breaker: breaker.inner().clone(), func }
    }

    /// Runs the function through the breaker.
    #[pyo3(signature = (*args, **kwargs))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let func = self.func.bind(py);
        let result = self.breaker.call(|| func.call(args, kwargs).map(Bound::unbind));
        into_py_result(py, result)
    }

    /// As a method: bound to the instance, like a function.
    fn __get__<'py>(
        slf: Bound<'py, Self>,
        obj: Option<Bound<'py, PyAny>>,
        _owner: Option<Bound<'py, PyType>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        static METHOD_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
        match obj.filter(|o| !o.is_none()) {
            Some(obj) => METHOD_TYPE.import(slf.py(), "types", "MethodType")?.call1((slf, obj)),
            None => Ok(slf.into_any()),
        }
    }

    /// Pickled by name, like the function it replaces.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.getattr("__qualname__")
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Guarded>()
}
