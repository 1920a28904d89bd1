//! Redis backends (feature `redis`): the request queue, the response cache and shared breaker state, for several
//! processes on several machines. One synchronous connection per store, behind a mutex; a
//! connection that broke (Redis restarted, the network dropped it) is opened again on next use.

mod breakers;
mod cache;
mod queue;

use std::sync::{Mutex, MutexGuard};

use redis::ConnectionLike;
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
    client: redis::Client,
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
        let client = redis::Client::open(url)?;
        let conn = connect(&client)?;
        Ok(Self { client, conn: Mutex::new(conn), prefix: prefix.to_owned() })
    }

    /// The connection, opened again first if it broke. When Redis is still unreachable the
    /// broken one is returned, so the caller's command fails with Redis's error and the next
    /// call tries again.
    pub(crate) fn get(&self) -> MutexGuard<'_, redis::Connection> {
        let mut conn = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !conn.is_open() {
            match connect(&self.client) {
                Ok(fresh) => {
                    tracing::info!(prefix = %self.prefix, "redis store: reconnected");
                    *conn = fresh;
                }
                Err(error) => tracing::warn!(prefix = %self.prefix, %error, "redis store: still unreachable"),
            }
        }
        conn
    }

    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }
}

/// What a failed Redis command says: always naming Redis, and saying it is unreachable when
/// the connection broke, was refused or timed out (the bare I/O error would read "Broken pipe").
pub(crate) fn describe(e: &redis::RedisError) -> String {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
        format!("redis unreachable: {e}")
    } else {
        format!("redis: {e}")
    }
}

/// A connection with [`REDIS_IO_TIMEOUT`] on opening, reads and writes.
fn connect(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let conn = client.get_connection_with_timeout(REDIS_IO_TIMEOUT)?;
    conn.set_read_timeout(Some(REDIS_IO_TIMEOUT))?;
    conn.set_write_timeout(Some(REDIS_IO_TIMEOUT))?;
    Ok(conn)
}
