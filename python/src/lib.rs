//! The native half of the Python package `elf_resilience`.
//!
//! Every decision, state and schedule lives in the Rust crates; this module only converts
//! between Python and Rust values. The Python half (`elf_resilience/`) adds the decorators and
//! the asyncio glue.

mod backoff;
mod breaker;
mod clock;
mod convert;
mod fallback;
mod guarded;
mod health;
mod names;
mod queue;
mod resources;
mod store;
mod value;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    names::register(m)?;
    clock::register(m)?;
    breaker::register(m)?;
    guarded::register(m)?;
    backoff::register(m)?;
    resources::register(m)?;
    fallback::register(m)?;
    health::register(m)?;
    store::register(m)?;
    Ok(())
}
