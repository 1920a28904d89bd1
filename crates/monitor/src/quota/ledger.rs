//! The usage ledger's trait and types live in the core (so storage backends need only the
//! core); they are re-exported here, at their old paths, with the time helpers the in-memory
//! ledger shares.

use std::time::{SystemTime, UNIX_EPOCH};

pub use elf_resilience_core::{
    LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger,
};

/// Seconds since the Unix epoch, 0 for earlier times.
pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Seconds since the Unix epoch rounded up, 0 for earlier times.
pub(crate) fn unix_secs_ceil(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
}
