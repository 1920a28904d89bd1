//! API quota: the usage ledger, limits per team, model and window, provider rate-limit
//! headers and the classification of LLM errors.
//!
//! The items are at the crate root; this module keeps the usage ledger's trait, its types and
//! [`InMemoryLedger`] at their older `quota::` paths as well.
//!
//! - [`UsageLedger`] stores what each team spent on each model; [`InMemoryLedger`] keeps it in
//!   atomic bucket rings fed by per-thread pending cells, the store crate keeps it in SQLite.
//!   The trait and its types live in the core and are re-exported here; the core's
//!   `ledger_conformance` (feature `testing`) checks a backend.
//! - [`QuotaTracker`](crate::QuotaTracker) compares the ledger with [`QuotaLimit`](crate::QuotaLimit)s (per team, model and window of a
//!   minute, hour or day, in tokens and requests) and with what providers last said in their
//!   rate-limit headers ([`RateLimitSnapshot`](crate::RateLimitSnapshot)); the worst figure wins. It is the resource
//!   manager's [`QuotaSource`](crate::QuotaSource), and [`ApiQuotaProbe`](crate::ApiQuotaProbe) samples it as a whole.
//! - [`LlmErrorKind::classify`](crate::LlmErrorKind::classify) reads an error response: wait, never retry, switch provider or
//!   degrade.
//!
//! ```
//! use elf_resilience_core::ManualClock;
//! use elf_resilience_monitor::{
//!     InMemoryLedger, LlmErrorKind, QuotaLimit, QuotaTracker, QuotaWindow, RateLimitSnapshot, Usage,
//! };
//! use std::sync::Arc;
//! use std::time::{Duration, SystemTime};
//!
//! let clock = ManualClock::new();
//! let tracker = QuotaTracker::builder(Arc::new(InMemoryLedger::new()))
//!     .clock(clock.shared())
//!     .limit(QuotaLimit::new(QuotaWindow::Hour).team("sales").tokens(100_000))
//!     .build()
//!     .unwrap();
//! tracker.record("sales", "gpt-4", Usage::new(40_000, 3)).unwrap();
//! assert_eq!(tracker.usage_percent_for(Some("sales"), Some("gpt-4")), Some(40.0));
//!
//! // The provider says only 5 % of its token budget is left: critical before any 429.
//! let headers = [("x-ratelimit-limit-tokens", "20000"), ("x-ratelimit-remaining-tokens", "1000")];
//! tracker.observe_headers("gpt-4", RateLimitSnapshot::from_headers(headers, SystemTime::now()));
//! assert_eq!(tracker.usage_percent_for(Some("sales"), Some("gpt-4")), Some(95.0));
//!
//! // A 429 blocks the model until its retry-after has passed.
//! let kind = LlmErrorKind::classify(429, &RateLimitSnapshot::from_headers([("retry-after", "2")], SystemTime::now()), "");
//! tracker.observe_error("gpt-4", kind);
//! assert_eq!(tracker.usage_percent_for(None, Some("gpt-4")), Some(100.0));
//! clock.advance(Duration::from_secs(2));
//! assert_eq!(tracker.usage_percent_for(None, Some("gpt-4")), Some(95.0));
//! ```

pub(crate) mod headers;
mod ledger;
pub(crate) mod limits;
pub(crate) mod llm_error;
mod local;
mod memory;
pub(crate) mod parse;
mod pending;
mod ring;
mod series;
pub(crate) mod source;
pub(crate) mod tracker;

// The ledger's trait and types (from the core) and the in-memory ledger stay reachable here, at
// the paths they had before the trait moved to the core; everything else is at the crate root.
pub use ledger::{LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger};
pub use memory::InMemoryLedger;
