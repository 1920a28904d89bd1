//! Fallback protocols: what to do when a resource is short or a call fails.
//!
//! This module holds the seams the protocol talks through:
//!
//! - [`ResourceGate`]: is a resource usable, and what are the alternatives? The resource
//!   manager implements it; [`StaticGate`] is set by hand for tests.
//! - [`RequestQueue`]: the durable queue behind the `QueueRequest` strategy, with an
//!   in-memory backend ([`InMemoryQueue`]) and a shared test suite ([`queue_conformance`]).

mod gate;
mod memory_queue;
mod queue;
mod queue_conformance;

pub use gate::{GateReading, ResourceGate, StaticGate};
pub use memory_queue::InMemoryQueue;
pub use queue::{EnqueueRequest, QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus};
pub use queue_conformance::queue_conformance;
