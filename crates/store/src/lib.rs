//! # elf-resilience-store
//!
//! Storage backends for elf-resilience, behind the traits the policies define:
//!
//! | type | trait | what it keeps |
//! |------|-------|---------------|
//! | [`SqliteQueue`] | [`RequestQueue`](elf_resilience_core::RequestQueue) | queued requests, leases, results, dead letters |
//! | [`SqliteCache`] | [`ResponseCache`](elf_resilience_core::ResponseCache) | answers by request key, with TTL and staleness |
//! | [`SqliteLedger`] | [`UsageLedger`](elf_resilience_monitor::quota::UsageLedger) | token and request usage, per minute and per hour |
//!
//! SQLite is the embedded default: one file per store in a data directory, WAL journal, a busy
//! timeout so several processes can share it. Every backend passes its trait's conformance suite.

mod sqlite;

pub use sqlite::{SqliteCache, SqliteLedger, SqliteQueue, StoreError};
