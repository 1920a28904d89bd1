//! Redis backends (feature `redis`): the request queue, the response cache and shared breaker state, for several
//! processes on several machines. One synchronous connection per store, behind a mutex.

mod breakers;
mod cache;
mod queue;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub use breakers::RedisBreakerStore;
pub use cache::RedisCache;
pub use queue::RedisQueue;

/// Why a Redis store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("redis store: {0}")]
pub struct RedisStoreError(#[from] redis::RedisError);

/// How long opening a connection, and then any one read or write on it, may take before it fails
/// with an I/O error instead of hanging (a host that drops packets, a stalled server).
pub const REDIS_IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection and the key prefix of one store.
pub(crate) struct Conn {
    conn: Mutex<redis::Connection>,
    prefix: String,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl Conn {
    pub(crate) fn open(url: &str, prefix: &str) -> Result<Self, RedisStoreError> {
        let conn = redis::Client::open(url)?.get_connection_with_timeout(REDIS_IO_TIMEOUT)?;
        conn.set_read_timeout(Some(REDIS_IO_TIMEOUT))?;
        conn.set_write_timeout(Some(REDIS_IO_TIMEOUT))?;
        Ok(Self { conn: Mutex::new(conn), prefix: prefix.to_owned() })
    }

    pub(crate) fn get(&self) -> MutexGuard<'_, redis::Connection> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }
}
