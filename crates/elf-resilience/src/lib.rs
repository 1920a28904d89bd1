//! # elf-resilience
//!
//! Calls that degrade gracefully instead of failing: retry with backoff, switch LLM provider,
//! degrade quality, queue for later, answer from cache, trip a circuit breaker, shed load; and
//! a live view of resources (API quota, memory, CPU, databases, MCP servers, endpoints,
//! containers, pods) and health checks.
//!
//! ```
//! use elf_resilience::{CircuitBreaker, ExponentialBackoff};
//! ```
//!
//! | feature   | default | what it adds |
//! |-----------|---------|--------------|
//! | `tokio`   | yes     | async adapters |
//! | `monitor` | yes     | resource manager and health monitor |
//! | `store`   | yes     | SQLite (and Redis) storage for queue, cache and usage ledger |
//! | `macros`  | yes     | `#[with_retry]`, `#[with_circuit_breaker]`, `#[with_fallback]` |
//! | `tower`   | no      | tower layers |

pub use elf_resilience_core::*;
#[cfg(feature = "macros")]
pub use elf_resilience_macros::*;
#[cfg(feature = "monitor")]
pub use elf_resilience_monitor::*;
#[cfg(feature = "store")]
pub use elf_resilience_store::*;
