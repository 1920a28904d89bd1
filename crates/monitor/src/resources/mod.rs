//! The resource manager and its probes.

mod probe;
pub mod probes;
mod quota_source;

pub use probe::{BoxFuture, Probe, ProbeError, Sample};

pub use quota_source::{QuotaSource, UsageTotal};
