//! Errors of the timeout policy.

use std::time::Duration;

/// Why a call under a [`Timeout`](crate::Timeout) did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeoutError<E> {
    /// The call did not finish within the limit; it was dropped.
    #[error("call timed out after {0:?}")]
    Elapsed(Duration),
    /// The call finished in time and failed.
    #[error(transparent)]
    Inner(E),
}

impl<E> TimeoutError<E> {
    /// True when the limit elapsed.
    pub fn is_elapsed(&self) -> bool {
        matches!(self, Self::Elapsed(_))
    }

    /// The call's own error, if it finished and failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Inner(e) => Some(e),
            Self::Elapsed(_) => None,
        }
    }
}

/// The call's own hint; an elapsed limit carries none.
impl<E: crate::retry::RetryAfterHint> crate::retry::RetryAfterHint for TimeoutError<E> {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Inner(e) => e.retry_after(),
            Self::Elapsed(_) => None,
        }
    }
}
