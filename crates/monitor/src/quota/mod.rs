//! API quota: the usage ledger, limits per team, model and window, provider rate-limit
//! headers and the classification of LLM errors.

pub mod conformance;
mod ledger;
mod memory;
mod ring;

pub use ledger::{LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger};
pub use memory::InMemoryLedger;
