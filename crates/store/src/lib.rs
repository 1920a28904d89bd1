//! # elf-resilience-store
//!
//! Storage backends for elf-resilience, behind the traits the policies define:
//!
//! | type | trait | what it keeps |
//! |------|-------|---------------|
//! | [`SqliteQueue`] | [`RequestQueue`](elf_resilience_core::RequestQueue) | queued requests, leases, results, dead letters |
//! | [`SqliteCache`] | [`ResponseCache`](elf_resilience_core::ResponseCache) | answers by request key, with TTL and staleness |
//! | [`SqliteLedger`] | [`UsageLedger`](elf_resilience_core::UsageLedger) | token and request usage, per minute and per hour |
//! | [`SqliteBreakerStore`] | [`BreakerStateStore`] | every process's circuit breakers, and trip / reset commands for them |
//!
//! SQLite is the embedded default: one file per store in a data directory, WAL journal, a busy
//! timeout so several processes can share it. With the `redis` feature, `RedisQueue` and
//! `RedisCache` keep the queue and cache in Redis for several machines, and `RedisBreakerStore`
//! the shared breaker state. Every backend passes its trait's conformance suite (the suites are
//! behind the `testing` feature, here and in the core).
//!
//! | feature   | default | what it adds |
//! |-----------|---------|--------------|
//! | `redis`   | no      | `RedisQueue`, `RedisCache`, `RedisBreakerStore` |
//! | `testing` | no      | `breaker_store_conformance`, for the tests of other [`BreakerStateStore`] backends; `PrivateRedis`, a `redis-server` a test starts and kills |
//!
//! [`BreakerPublisher`] publishes a process's breakers to a [`BreakerStateStore`] and applies the
//! trip / reset commands other processes (the `elf-resilience serve` dashboard) send them.

mod breakers;
#[cfg(feature = "redis")]
mod redis;
mod sqlite;

#[cfg(feature = "redis")]
pub use redis::{REDIS_IO_TIMEOUT, RedisBreakerStore, RedisCache, RedisQueue, RedisStoreError};

#[cfg(feature = "testing")]
pub use breakers::breaker_store_conformance;
#[cfg(feature = "testing")]
mod private_redis;
pub use breakers::{
    BreakerCommand, BreakerPublisher, BreakerSnapshot, BreakerStateStore, BreakerStoreError, Owner,
    PublisherHandle, Tick,
};
#[cfg(feature = "testing")]
pub use private_redis::PrivateRedis;
pub use sqlite::{
    DEFAULT_MAX_STALENESS, SqliteBreakerStore, SqliteCache, SqliteLedger, SqliteQueue, StoreError,
};
