//! SQLite backends: the trait owners' conformance suites, restarts and crashes.

mod durability;
mod ledger;
mod queue;
