//! Storage calls off the async workers: a SQLite file locked by another process or a Redis
//! that stopped answering ties up a blocking thread, never the runtime that answers `/livez`.

use std::fmt;
use std::time::Duration;

use crate::config::format_duration;

/// A storage call that did not come back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageError {
    /// The store did not answer within the timeout.
    TimedOut {
        /// The store, as the client sees it named (`the breaker store`).
        store: &'static str,
        /// How long it was given.
        after: Duration,
    },
    /// The call panicked.
    Panicked {
        /// The store.
        store: &'static str,
    },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut { store, after } => write!(
                f,
                "{store} did not answer within {} (`[storage] timeout`); try again later",
                format_duration(*after)
            ),
            Self::Panicked { store } => write!(f, "{store} call failed"),
        }
    }
}

impl std::error::Error for StorageError {}

/// The queue, as 503 errors name it.
pub(crate) const QUEUE: &str = "the request queue";

/// Runs `f` on the blocking pool and waits at most `timeout` for it. On a timeout the thread
/// keeps running until the store answers or its own I/O timeout fires; the caller moves on.
pub(crate) async fn blocking<T, F>(store: &'static str, timeout: Duration, f: F) -> Result<T, StorageError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(StorageError::Panicked { store }),
        Err(_) => Err(StorageError::TimedOut { store, after: timeout }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_in_time_come_back() {
        assert_eq!(blocking("the queue", Duration::from_secs(5), || 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_store_that_does_not_answer_times_out_by_name() {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let err = blocking("the queue", Duration::from_millis(50), move || held.recv()).await.unwrap_err();
        assert_eq!(err, StorageError::TimedOut { store: "the queue", after: Duration::from_millis(50) });
        assert!(err.to_string().contains("the queue did not answer within 50ms"), "{err}");
        drop(release);
    }

    #[tokio::test]
    async fn a_panic_is_an_error_not_a_crash() {
        let err = blocking("the queue", Duration::from_secs(5), || panic!("boom")).await.unwrap_err();
        assert_eq!(err, StorageError::Panicked { store: "the queue" });
    }
}
