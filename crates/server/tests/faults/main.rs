//! Faults of the server's dependencies, each against a real one: PostgreSQL refusing, stalled
//! or slow behind a [`proxy::TcpProxy`]; Redis as the storage backend killed, stopped or slow;
//! the data directory's disk full; an alert webhook that never answers. For each: no panic,
//! no hang past the configured timeouts, health names what is wrong, nothing stored is lost,
//! and everything recovers by itself once the fault ends.

mod disk;
mod postgres;
mod proxy;
#[cfg(feature = "redis")]
mod redis;
mod support;
mod webhook;
