//! # elf-resilience-core
//!
//! The resilience policies of elf-resilience, with no I/O but timers: backoff schedules,
//! retry, circuit breaker, rate limiter, bulkhead, timeout, response cache and the fallback
//! protocol that chains them.
//!
//! Every policy takes a [`Clock`], so tests run on a [`ManualClock`] or tokio's paused time.
//!
//! | feature | default | what it adds |
//! |---------|---------|--------------|
//! | `tokio` | yes     | async `call_async` adapters, [`TokioClock`], async sleeping |
//! | `tower` | no      | a tower `Layer` for each policy |

pub mod backoff;
pub mod bulkhead;
pub mod cache;
pub mod circuit_breaker;
pub mod clock;
pub mod fallback;
mod ledger;
#[cfg(feature = "tokio")]
pub mod pipeline;
pub mod rate_limit;
pub mod resource;
pub mod retry;
mod stripes;
pub mod timeout;

pub use backoff::*;
pub use bulkhead::*;
pub use cache::*;
pub use circuit_breaker::*;
pub use clock::*;
pub use fallback::*;
#[cfg(feature = "testing")]
pub use ledger::ledger_conformance;
pub use ledger::{LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger};
#[cfg(feature = "tokio")]
pub use pipeline::*;
pub use rate_limit::*;
pub use resource::*;
pub use retry::*;
pub use timeout::*;
