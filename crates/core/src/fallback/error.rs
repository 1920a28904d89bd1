//! The errors of the fallback protocol.

use std::fmt;
use std::time::Duration;

use super::outcome::Trace;
use super::queue::QueueError;
use crate::resource::ResourceType;

/// Why an execution produced neither a value nor a queued ticket. Every variant carries the
/// trace of the execution.
#[derive(Debug)]
#[non_exhaustive]
pub enum FallbackError<E> {
    /// Every strategy was tried and none served; `last` is the operation's last error.
    Exhausted {
        /// The resource.
        resource: ResourceType,
        /// The operation's last error, if it was called at all.
        last: Option<E>,
        /// The decisions taken.
        trace: Box<Trace>,
    },
    /// The call was shed to protect the resource.
    Shed {
        /// Why.
        reason: String,
        /// The decisions taken.
        trace: Box<Trace>,
    },
    /// The breaker for this call is open.
    CircuitOpen {
        /// The breaker's name.
        name: String,
        /// When it may let a call through, if known.
        retry_after: Option<Duration>,
        /// The decisions taken.
        trace: Box<Trace>,
    },
    /// The request could not be queued.
    Queue {
        /// The queue's error.
        source: QueueError,
        /// The decisions taken.
        trace: Box<Trace>,
    },
}

impl<E: fmt::Display> fmt::Display for FallbackError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exhausted { resource, last: Some(e), .. } => {
                write!(f, "all fallback strategies exhausted for {resource}: {e}")
            }
            Self::Exhausted { resource, last: None, .. } => {
                write!(f, "all fallback strategies exhausted for {resource}")
            }
            Self::Shed { reason, .. } => write!(f, "request shed: {reason}"),
            Self::CircuitOpen { name, .. } => write!(f, "circuit breaker `{name}` is open"),
            Self::Queue { source, .. } => write!(f, "queueing the request failed: {source}"),
        }
    }
}

/// An error for any displayable operation error (so `String` errors work with `?`); the
/// operation's error is part of the message rather than the `source`.
impl<E: fmt::Display + fmt::Debug> std::error::Error for FallbackError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Queue { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl<E> FallbackError<E> {
    /// The decisions taken before the failure.
    pub fn trace(&self) -> &Trace {
        match self {
            Self::Exhausted { trace, .. }
            | Self::Shed { trace, .. }
            | Self::CircuitOpen { trace, .. }
            | Self::Queue { trace, .. } => trace,
        }
    }

    /// The operation's last error, if any.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Exhausted { last, .. } => last,
            _ => None,
        }
    }

    /// Whether the call was shed.
    pub fn is_shed(&self) -> bool {
        matches!(self, Self::Shed { .. })
    }

    /// Whether a breaker rejected the call.
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, Self::CircuitOpen { .. })
    }

    /// When to try again, if the error says.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::CircuitOpen { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A fallback protocol configured wrongly; returned by `FallbackProtocolBuilder::build`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidFallbackConfig {
    /// Degrade levels must be non-empty, start at full quality and have scales in (0, 1].
    #[error("invalid degrade levels: {0}")]
    DegradeLevels(String),
    /// A strategy order must not be empty.
    #[error("empty strategy order for {0}")]
    EmptyOrder(ResourceType),
    /// The concurrency limit for load shedding must be at least 1.
    #[error("load-shed concurrency limit must be at least 1")]
    ZeroConcurrency,
}
