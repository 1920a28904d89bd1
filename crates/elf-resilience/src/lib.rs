//! # elf-resilience
//!
//! Calls that degrade gracefully instead of failing: retry with backoff, switch LLM provider,
//! degrade quality, queue for later, answer from cache, trip a circuit breaker, shed load; and
//! a live view of resources (API quota, memory, CPU, databases, MCP servers, endpoints,
//! containers, pods) and health checks.
//!
//! The seed's import line is the [`prelude`]:
//!
//! ```
//! use elf_resilience::prelude::*;
//!
//! let breaker = CircuitBreaker::builder().name("OpenAI-API").failure_threshold(5).build()?;
//! assert_eq!(breaker.name(), "OpenAI-API");
//! assert_eq!(FallbackProtocol::default().order_for(ResourceType::ApiQuota)[0], FallbackStrategy::Retry);
//! # Ok::<(), elf_resilience::InvalidBreakerConfig>(())
//! ```
//!
//! | feature   | default | what it adds |
//! |-----------|---------|--------------|
//! | `tokio`   | yes     | async adapters |
//! | `monitor` | yes     | resource manager and health monitor |
//! | `postgres`| yes     | the PostgreSQL probe (implies `monitor`) |
//! | `mcp`     | yes     | the MCP server probe (implies `monitor`) |
//! | `http`    | yes     | the HTTP probe and the webhook and PagerDuty alert sinks (implies `monitor`) |
//! | `store`   | yes     | SQLite storage for the queue, cache, usage ledger and shared breaker state |
//! | `macros`  | yes     | `#[with_retry]`, `#[with_circuit_breaker]`, `#[with_fallback]` |
//! | `redis`   | no      | Redis backends for the queue, cache and shared breaker state (implies `store`) |
//! | `tower`   | no      | tower layers, including `FallbackLayer` |
//!
//! ## Queueing a call for later
//!
//! `#[with_fallback(.., queue = "handler")]` lets `QueueRequest` queue a call with its
//! arguments (each `Serialize`) as a JSON object. The queued call returns its error type made
//! from a [`FallbackRejection`] holding the ticket; a [`QueueWorker`] replays it once the
//! resource is usable, through the handler registered under the same name (example
//! `fallback_queue`).
//!
//! ```
//! # #[cfg(feature = "macros")] {
//! use elf_resilience::{FallbackProtocol, FallbackRejection, InMemoryQueue, QueueWorker};
//! use elf_resilience::{ResourceStatus, ResourceType, StaticGate, with_fallback};
//! use std::sync::Arc;
//!
//! type BoxError = Box<dyn std::error::Error + Send + Sync>;
//!
//! #[with_fallback(Memory, queue = "batch-jobs")]
//! fn process(job: &str, rows: u32) -> Result<String, BoxError> {
//!     Ok(format!("{job}: {rows} rows"))
//! }
//!
//! #[derive(serde::Deserialize)]
//! struct Process { job: String, rows: u32 }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
//! let (gate, queue) = (Arc::new(StaticGate::new()), Arc::new(InMemoryQueue::new()));
//! FallbackProtocol::set_global(FallbackProtocol::builder().gate(gate.clone()).queue(queue.clone()).build()?);
//! gate.set(ResourceType::Memory, ResourceStatus::Exhausted, 99.0);
//! let err = process("nightly", 10_000).unwrap_err();
//! let ticket = err.downcast_ref::<FallbackRejection>().and_then(|r| r.ticket.clone()).unwrap();
//!
//! let worker = QueueWorker::new(queue, gate.clone()).register_typed("batch-jobs", ResourceType::Memory,
//!     |p: Process, _ctx| async move { process(&p.job, p.rows).map_err(|e| e.to_string()) });
//! gate.set(ResourceType::Memory, ResourceStatus::Healthy, 40.0);
//! worker.run_once().await?;
//! assert_eq!(format!("{:?}", worker.wait_for(&ticket).await?), r#"Done(Some(String("nightly: 10000 rows")))"#);
//! # Ok::<(), BoxError>(()) })?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```

pub use elf_resilience_core::*;

#[cfg(feature = "macros")]
#[doc(hidden)]
pub mod macro_support;

/// The names of the seed's import line, `use elf_resilience::prelude::*;`: the resource
/// manager and resource types, the fallback protocol and its strategies, the circuit breaker,
/// the `#[with_retry]` attribute and its backoff, and the health monitor and checks.
pub mod prelude {
    pub use elf_resilience_core::{
        CircuitBreaker, ExponentialBackoff, FallbackProtocol, FallbackStrategy, ResourceType,
    };
    #[cfg(feature = "macros")]
    pub use elf_resilience_macros::with_retry;
    #[cfg(feature = "monitor")]
    pub use elf_resilience_monitor::{HealthCheck, HealthMonitor, ResourceManager};
}

#[cfg(feature = "macros")]
pub use elf_resilience_macros::*;
#[cfg(feature = "monitor")]
pub use elf_resilience_monitor::*;
#[cfg(feature = "store")]
pub use elf_resilience_store::*;
