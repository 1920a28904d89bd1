//! SQLite backends: the trait owners' conformance suites, restarts and crashes.

mod breakers;
mod cache;
mod durability;
mod files;
mod ledger;
mod payloads;
mod queue;
