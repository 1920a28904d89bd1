//! SQLite backends: the trait owners' conformance suites, restarts and crashes.

mod cache;
mod durability;
mod ledger;
mod queue;
