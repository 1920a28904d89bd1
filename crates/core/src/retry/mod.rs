//! Retry: call again, after a backoff, until the call succeeds or a limit is reached.
//!
//! A [`Retry`] wraps a backoff schedule (any `Iterator<Item = Duration> + Clone`, such as
//! [`ExponentialBackoff`](crate::ExponentialBackoff)) and runs a closure with
//! [`call`](Retry::call) (blocking) or a future-producing closure with
//! [`call_async`](Retry::call_async). It is reusable: each call starts a fresh schedule.
//!
//! - what to retry: [`retry_if`](Retry::retry_if) on errors, [`retry_on_result`](Retry::retry_on_result) on values;
//!   a call that stops on either ends with a [`RetryError`] holding the attempt count and the last
//!   error or rejected value;
//! - limits: the schedule's length, [`max_attempts`](Retry::max_attempts), [`max_elapsed`](Retry::max_elapsed),
//!   a shared [`RetryBudget`];
//! - server hints: [`retry_after_hint`](Retry::retry_after_hint) / [`hint`](Retry::hint), never waiting less
//!   than a `Retry-After`;
//! - observing: [`notify`](Retry::notify), a `tracing` debug event per retry and the `metrics` counters
//!   `elf_retry_attempts_total` and `elf_retry_giveups_total{reason}`.
//!
//! A first attempt that succeeds costs one predicate check: no clock read, no allocation, no
//! schedule cloned (a clock read only when `max_elapsed` is set, a budget deposit only with a
//! budget).
//!
//! # Example
//!
//! The seed's `@with_retry(max_retries=3)`:
//!
//! ```
//! use elf_resilience_core::Retry;
//! use std::cell::Cell;
//!
//! let calls = Cell::new(0);
//! let flaky_operation = || {
//!     calls.set(calls.get() + 1);
//!     if calls.get() < 3 { Err("Random failure") } else { Ok("Success") }
//! };
//! let retry = Retry::with_max_retries(3).sleeper(|_| {}); // a no-op sleeper keeps the example instant
//! assert_eq!(retry.call(flaky_operation), Ok("Success"));
//! assert_eq!(calls.get(), 3);
//! ```

mod blocking;
mod budget;
mod builder;
mod error;
mod future;
mod hint;
mod hooks;
mod run;

#[cfg(feature = "tokio")]
pub(crate) use run::RetryRun;

use std::fmt;
use std::time::Duration;

pub use blocking::Sleeper;
pub use budget::{InvalidRetryBudget, RetryBudget, RetryBudgetBuilder};
pub use error::{RetryError, RetryErrorKind};
pub use future::AsyncSleeper;
pub use hint::{NoRetryHint, RetryAfterHint, RetryHintSource, UseRetryAfterHint};
pub use hooks::{
    AcceptAnyResult, NoRetryNotify, ResultPredicate, RetryNotify, RetryOnAnyError, RetryPredicate,
};

#[cfg(feature = "tower")]
mod layer;
#[cfg(feature = "tower")]
pub use layer::{RetryLayer, RetryService, RetryServiceFuture};

use crate::backoff::ExponentialBackoff;
use crate::clock::SharedClock;

/// The longest wait a Retry-After hint may impose unless [`Retry::max_hint`] says otherwise.
pub const DEFAULT_MAX_RETRY_HINT: Duration = Duration::from_secs(60);

/// A retry policy: a backoff schedule plus what to retry, limits, hints and observers.
///
/// Built with [`Retry::new`] and the setters below; run with [`call`](Retry::call) or
/// [`call_async`](Retry::call_async). The type parameters are the pluggable parts and keep
/// their defaults unless a setter replaces them.
///
/// # Default
///
/// Every error is retried, no value is; no attempt or time limit beyond the schedule; no
/// budget; hints ignored (cap [`DEFAULT_MAX_RETRY_HINT`] once enabled); sleeping with
/// `std::thread::sleep` in `call` and `tokio::time::sleep` in `call_async`; time (for
/// `max_elapsed`) from the system clock in `call` and tokio's clock in `call_async`.
///
/// # Example
///
/// ```
/// use elf_resilience_core::{ExponentialBackoff, ManualClock, Retry};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let sleeper_clock = clock.clone();
/// let policy = ExponentialBackoff::builder().with_max_retries(5).with_base_delay(Duration::from_millis(500))
///     .with_multiplier(3.0).with_max_delay(Duration::from_secs(30)).build()?;
/// let retry = Retry::new(policy)
///     .retry_if(|e: &&str| *e != "bad request")
///     .max_elapsed(Duration::from_secs(10))
///     .clock(clock.clone())
///     .sleeper(move |d| sleeper_clock.advance(d));
///
/// let err = retry.call(|| Err::<(), _>("unavailable")).unwrap_err();
/// assert!(err.is_elapsed_limit()); // waits of 0.5 + 1.5 + 4.5 s, then 13.5 s would pass 10 s
/// assert_eq!(err.attempts(), 4);
/// assert_eq!(clock.now(), Duration::from_millis(6500));
///
/// let err = retry.call(|| Err::<(), _>("bad request")).unwrap_err();
/// assert!(err.is_not_retryable());
/// # use elf_resilience_core::Clock;
/// # Ok::<(), elf_resilience_core::InvalidBackoff>(())
/// ```
pub struct Retry<
    B,
    P = RetryOnAnyError,
    R = AcceptAnyResult,
    N = NoRetryNotify,
    H = NoRetryHint,
    S = DefaultSleeper,
> {
    backoff: B,
    retry_if: P,
    retry_on_result: R,
    notify: N,
    hint: H,
    sleeper: S,
    settings: RetrySettings,
}

/// The limits and shared parts of a [`Retry`].
#[derive(Debug, Clone)]
struct RetrySettings {
    max_attempts: Option<u32>,
    max_elapsed: Option<Duration>,
    max_hint: Duration,
    budget: Option<RetryBudget>,
    clock: Option<SharedClock>,
}

/// Sleeps with `std::thread::sleep` in [`Retry::call`] and `tokio::time::sleep` in
/// [`Retry::call_async`] (feature `tokio`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultSleeper;

impl<B: Iterator<Item = Duration> + Clone> Retry<B> {
    /// A policy that retries every error on the `backoff` schedule.
    pub fn new(backoff: B) -> Self {
        Retry {
            backoff,
            retry_if: RetryOnAnyError,
            retry_on_result: AcceptAnyResult,
            notify: NoRetryNotify,
            hint: NoRetryHint,
            sleeper: DefaultSleeper,
            settings: RetrySettings {
                max_attempts: None,
                max_elapsed: None,
                max_hint: DEFAULT_MAX_RETRY_HINT,
                budget: None,
                clock: None,
            },
        }
    }
}

impl Retry<ExponentialBackoff> {
    /// The seed's `with_retry(max_retries)` as a policy: up to `max_retries` retries after the
    /// first call, waiting 1 s, 2 s, 4 s… (an [`ExponentialBackoff`] with its defaults: ×2,
    /// capped at 60 s, no jitter). The `#[with_retry]` attribute of the facade is built on it.
    ///
    /// ```
    /// use elf_resilience_core::Retry;
    /// let retry = Retry::with_max_retries(3).sleeper(|_| {});
    /// let err = retry.call(|| Err::<(), _>("down")).unwrap_err();
    /// assert_eq!(err.attempts(), 4);
    /// ```
    pub fn with_max_retries(max_retries: u32) -> Self {
        Retry::new(ExponentialBackoff::new().with_max_retries(max_retries))
    }
}

impl<B: fmt::Debug, P, R, N, H, S> fmt::Debug for Retry<B, P, R, N, H, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry").field("backoff", &self.backoff).field("settings", &self.settings).finish()
    }
}

impl<B: Clone, P: Clone, R: Clone, N: Clone, H: Clone, S: Clone> Clone for Retry<B, P, R, N, H, S> {
    fn clone(&self) -> Self {
        Retry {
            backoff: self.backoff.clone(),
            retry_if: self.retry_if.clone(),
            retry_on_result: self.retry_on_result.clone(),
            notify: self.notify.clone(),
            hint: self.hint.clone(),
            sleeper: self.sleeper.clone(),
            settings: self.settings.clone(),
        }
    }
}
