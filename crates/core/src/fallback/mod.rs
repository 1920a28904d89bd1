//! Fallback protocols: what to do when a resource is short or a call fails.
//!
//! [`FallbackProtocol`] asks a [`ResourceGate`] whether the call's resource is usable, runs the
//! operation, and on failure or resource pressure applies [`FallbackStrategy`]s in order (a
//! default order per resource type, or a custom one per call). The operation receives an
//! [`Attempt`] with the provider and degrade knobs to use; the result is an [`Outcome`] (value
//! or queued ticket) carrying a serializable [`Trace`] of every decision.
//!
//! The seams:
//!
//! - [`ResourceGate`]: is a resource usable, and what are the alternatives? The resource
//!   manager implements it; [`StaticGate`] is set by hand for tests.
//! - [`RequestQueue`]: the durable queue behind `QueueRequest`, with an in-memory backend
//!   ([`InMemoryQueue`]) and a shared test suite ([`queue_conformance`]).
//! - [`ResponseCache`](crate::ResponseCache): the cache behind `UseCache`.
//! - [`CircuitBreakerRegistry`](crate::CircuitBreakerRegistry): the named breakers behind
//!   `CircuitBreak` (one per resource and operation) and `SwitchProvider` (one per provider).

mod answer;
mod attempt;
mod block_on;
mod builder;
mod engine;
mod error;
mod gate;
mod global;
mod hooks;
mod inner;
#[cfg(feature = "tower")]
mod layer;
mod memory_queue;
mod outcome;
mod protocol;
mod queue;
#[cfg(any(test, feature = "testing"))]
mod queue_conformance;
mod queue_page;
mod request;
mod stages;
mod strategy;
#[cfg(feature = "tokio")]
mod worker;

pub use answer::Answer;
pub use attempt::{Attempt, DegradeLevel, default_degrade_levels};
pub use builder::FallbackProtocolBuilder;
pub use error::{FallbackError, InvalidFallbackConfig};
pub use gate::{GateReading, ResourceGate, StaticGate};
pub use global::{FallbackRejection, fallback_into_result};
pub use hooks::{FallbackEvent, FallbackStage};
#[cfg(feature = "tower")]
pub use layer::{FallbackLayer, FallbackService, FallbackServiceFuture, WithAttempt};
pub use memory_queue::InMemoryQueue;
pub use outcome::{Outcome, Served, Trace, TraceEvent, TraceKind};
pub use protocol::FallbackProtocol;
pub use queue::{EnqueueRequest, QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus};
#[cfg(feature = "testing")]
pub use queue_conformance::queue_conformance;
pub use queue_page::QueueCounts;
pub use request::{FallbackRequest, QueueArgs};
pub use strategy::{FallbackStrategy, UnknownFallbackStrategy};
#[cfg(feature = "tokio")]
pub use worker::{QueueWorker, TicketResult, WorkerPass};
