//! Errors of the bulkhead.

use std::convert::Infallible;
use std::time::Duration;

/// Why a call through a [`Bulkhead`](crate::Bulkhead) did not produce a value.
///
/// `E` is the guarded call's own error; the permit API uses the default, [`Infallible`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BulkheadError<E = Infallible> {
    /// Every slot was taken and the bulkhead does not wait: the call was shed.
    #[error("bulkhead full: {max_concurrent} calls already in flight, call shed")]
    Shed {
        /// The bulkhead's limit.
        max_concurrent: usize,
    },
    /// Every slot stayed taken for the whole allowed wait.
    #[error("bulkhead full: no slot of {max_concurrent} freed within {waited:?}")]
    WaitTimedOut {
        /// The bulkhead's limit.
        max_concurrent: usize,
        /// How long the call waited.
        waited: Duration,
    },
    /// The call ran and failed.
    #[error(transparent)]
    Inner(E),
}

impl<E> BulkheadError<E> {
    /// True when the call was refused (shed or timed out waiting), not run.
    pub fn is_rejected(&self) -> bool {
        !matches!(self, Self::Inner(_))
    }

    /// True when the call was shed without waiting.
    pub fn is_shed(&self) -> bool {
        matches!(self, Self::Shed { .. })
    }

    /// The call's own error, if it ran and failed.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Inner(e) => Some(e),
            _ => None,
        }
    }
}

impl BulkheadError {
    /// Recasts a rejection for a call whose error type is `E`.
    pub fn widen<E>(self) -> BulkheadError<E> {
        match self {
            Self::Shed { max_concurrent } => BulkheadError::Shed { max_concurrent },
            Self::WaitTimedOut { max_concurrent, waited } => {
                BulkheadError::WaitTimedOut { max_concurrent, waited }
            }
            Self::Inner(never) => match never {},
        }
    }
}
