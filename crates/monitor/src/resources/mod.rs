//! The resource manager and its probes.

mod probe;

pub use probe::{BoxFuture, Probe, ProbeError, Sample};
