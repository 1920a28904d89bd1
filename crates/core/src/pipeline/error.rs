//! The error of a call through a [`Pipeline`](super::Pipeline).

use std::fmt;
use std::time::Duration;

use crate::bulkhead::BulkheadError;
use crate::circuit_breaker::CircuitOpen;
use crate::fallback::{Ticket, Trace};
use crate::rate_limit::RateLimited;
use crate::retry::RetryAfterHint;

/// Why a call through a pipeline produced no value: a layer refused it, or the operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PipelineError<E> {
    /// The operation's own error (after retries and fallback).
    Inner(E),
    /// A circuit breaker layer is open.
    CircuitOpen(CircuitOpen),
    /// A timeout layer elapsed.
    Timeout(Duration),
    /// A bulkhead layer shed the call.
    Bulkhead(BulkheadError),
    /// A rate limiter layer refused the call.
    RateLimited(RateLimited),
    /// The fallback layer queued the request instead of answering.
    Queued(Ticket),
    /// The fallback layer gave up without an operation error (shed, breaker open, queue failure).
    Fallback {
        /// The fallback protocol's message.
        message: String,
        /// Its decisions.
        trace: Box<Trace>,
    },
}

impl<E> PipelineError<E> {
    /// The operation's error, if that is what this is.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Inner(e) => Some(e),
            _ => None,
        }
    }

    /// Whether a layer refused the call (rather than the operation failing).
    pub fn is_rejection(&self) -> bool {
        !matches!(self, Self::Inner(_))
    }

    /// When to try again, if the refusing layer said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::CircuitOpen(open) => open.retry_after,
            Self::RateLimited(r) => Some(r.retry_after()),
            _ => None,
        }
    }

    /// Whether a retry layer should try again after this error: operation errors, timeouts and
    /// momentary refusals are retried; open breakers, queued and given-up requests are not.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self, Self::Inner(_) | Self::Timeout(_) | Self::Bulkhead(_) | Self::RateLimited(_))
    }
}

impl<E: fmt::Display> fmt::Display for PipelineError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inner(e) => e.fmt(f),
            Self::CircuitOpen(open) => open.fmt(f),
            Self::Timeout(d) => write!(f, "call timed out after {d:?}"),
            Self::Bulkhead(b) => b.fmt(f),
            Self::RateLimited(r) => r.fmt(f),
            Self::Queued(ticket) => write!(f, "request queued as ticket {ticket}"),
            Self::Fallback { message, .. } => f.write_str(message),
        }
    }
}

/// The hint a refusal carries ([`retry_after`](PipelineError::retry_after)), or the
/// operation's own, so a retry layer set to
/// [`retry_after_hint`](crate::Retry::retry_after_hint) honours both.
impl<E: RetryAfterHint> RetryAfterHint for PipelineError<E> {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Inner(e) => e.retry_after(),
            other => PipelineError::retry_after(other),
        }
    }
}

/// An error for any displayable operation error; `Inner` displays as the operation's error.
impl<E: fmt::Display + fmt::Debug> std::error::Error for PipelineError<E> {}
