//! The seam to circuit breakers used by `CircuitBreak` and `SwitchProvider`.

use std::fmt;
use std::time::Duration;

/// Named circuit breakers as the fallback protocol uses them.
///
/// `CircuitBreak` guards each call with the breaker named `"{resource}:{operation}"` (created on
/// first use); `SwitchProvider` skips a provider whose breaker (named after the provider) exists
/// and is open. The circuit breaker registry implements it.
pub trait FallbackBreakers: Send + Sync + fmt::Debug {
    /// Asks breaker `name` (created on first use) to let a call through; `Err(retry_after)`
    /// when it is open. A permitted call must be followed by [`record`](Self::record).
    fn acquire(&self, name: &str) -> Result<(), Option<Duration>>;

    /// Reports how a permitted call went.
    fn record(&self, name: &str, success: bool, elapsed: Duration);

    /// Whether breaker `name` exists and is open; never creates one.
    fn is_open(&self, name: &str) -> bool;
}
