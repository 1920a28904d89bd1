//! Integration tests of the circuit breaker.

mod support;

mod basics;
mod concurrency;
mod control;
mod metrics;
mod model;
mod panics;
mod registry;
mod stats;
mod windows;
