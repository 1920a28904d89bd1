//! The resource manager and its probes.
//!
//! [`ResourceManager`] keeps the last reading of every [`Probe`] in a lock-free slot, so
//! [`check_resource`](ResourceManager::check_resource) is a couple of atomic loads; samplers
//! refresh the readings in the background.

mod aggregate;
mod alternatives;
mod builder;
mod defaults;
mod entry;
mod error;
mod gate;
mod history;
mod manager;
mod probe;
pub mod probes;
mod quota_source;
mod report;
mod sampler;
mod slot;
mod thresholds;
mod usage;

pub use alternatives::Alternative;
pub use builder::{
    DEFAULT_PROBE_INTERVAL, DEFAULT_PROBE_TIMEOUT, DEFAULT_READING_TTL, ResourceManagerBuilder,
};
pub use error::ResourceManagerError;
pub use manager::{ResourceManager, ResourceReading};
pub use probe::{BoxFuture, Probe, ProbeError, Sample};
pub use quota_source::{QuotaSource, UsageTotal};
pub use report::{ProbeSummary, ResourceReport, ResourceSummary, SystemSummary};
pub use thresholds::{Threshold, Thresholds};

/// `d` in nanoseconds, saturating at `u64::MAX` (about 584 years), to compare with clock readings.
fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
