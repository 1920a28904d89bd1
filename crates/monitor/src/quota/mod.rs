//! API quota: the usage ledger, limits per team, model and window, provider rate-limit
//! headers and the classification of LLM errors.

pub mod conformance;
mod headers;
mod ledger;
mod limits;
mod llm_error;
mod memory;
mod parse;
mod ring;
mod source;
mod tracker;

pub use headers::{LimitKind, LimitState, RateLimitSnapshot};
pub use ledger::{LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger};
pub use limits::{QuotaConfigError, QuotaLimit, QuotaWindow};
pub use llm_error::LlmErrorKind;
pub use memory::InMemoryLedger;
pub use parse::{parse_go_duration, parse_retry_after, parse_rfc3339};
pub use source::ApiQuotaProbe;
pub use tracker::{QuotaTracker, QuotaTrackerBuilder};
