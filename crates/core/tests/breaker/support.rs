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

/// What `tracing` events `f` logged, as plain text lines.
pub fn logged(f: impl FnOnce()) -> String {
    let logs = Logs::default();
    let subscriber =
        tracing_subscriber::fmt().with_writer(logs.clone()).with_ansi(false).without_time().finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = logs.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A log sink in memory.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}
