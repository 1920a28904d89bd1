//! Shared helpers: a breaker on a manual clock, and call shorthands.

use elf_resilience_core::{CircuitBreaker, CircuitBreakerBuilder, CircuitBreakerError, ManualClock};
use std::time::Duration;

/// An error type for guarded calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    Server,
    BadRequest,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for ApiError {}

/// A builder on `clock`, named "test".
pub fn builder(clock: &ManualClock) -> CircuitBreakerBuilder {
    CircuitBreaker::builder().name("test").clock(clock.shared())
}

/// A breaker on `clock` with `threshold` consecutive failures and a 10 s recovery.
pub fn breaker(clock: &ManualClock, threshold: u32) -> CircuitBreaker {
    builder(clock).failure_threshold(threshold).recovery_timeout(secs(10)).build().unwrap()
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn ok(cb: &CircuitBreaker) -> Result<u32, CircuitBreakerError<ApiError>> {
    cb.call(|| Ok(1))
}

pub fn fail(cb: &CircuitBreaker) -> Result<u32, CircuitBreakerError<ApiError>> {
    cb.call(|| Err(ApiError::Server))
}
