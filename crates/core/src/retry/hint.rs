//! Retry-After hints: an error that says when to try again.

use std::time::Duration;

/// An error that may say how long to wait before the next try, such as an HTTP 429 or 503
/// with a `Retry-After` header, or a quota error with a reset time.
///
/// Opt in with [`Retry::retry_after_hint`](crate::Retry::retry_after_hint): the wait before the
/// next attempt is then never shorter than the hint (up to [`Retry::max_hint`](crate::Retry::max_hint)).
///
/// ```
/// use elf_resilience_core::RetryAfterHint;
/// use std::time::Duration;
///
/// struct TooManyRequests { retry_after_secs: u64 }
///
/// impl RetryAfterHint for TooManyRequests {
///     fn retry_after(&self) -> Option<Duration> {
///         Some(Duration::from_secs(self.retry_after_secs))
///     }
/// }
/// ```
pub trait RetryAfterHint {
    /// How long the server asked to wait, if it did.
    fn retry_after(&self) -> Option<Duration>;
}

/// A breaker's rejection says when a probe will be let through: a retry outside a breaker
/// waits at least that long. ([`CircuitBreakerError<E>`](crate::CircuitBreakerError) carries
/// the hint too, when `E` does.)
///
/// ```
/// use elf_resilience_core::{CircuitBreaker, FixedDelay, ManualClock, Retry, RetryAfterHint};
/// use std::time::Duration;
///
/// let cb = CircuitBreaker::new("OpenAI-API");
/// cb.trip();
/// let open = cb.try_acquire().unwrap_err();
/// assert!(open.retry_after().is_some_and(|d| d > Duration::from_secs(59)));
///
/// let waits = std::cell::RefCell::new(Vec::new());
/// let retry = Retry::new(FixedDelay::new().with_delay(Duration::ZERO).with_max_retries(1))
///     .retry_after_hint()
///     .sleeper(|d| waits.borrow_mut().push(d));
/// let _ = retry.call(|| cb.try_acquire().map(|permit| permit.success()));
/// assert!(waits.borrow()[0] > Duration::from_secs(59)); // waited for the breaker, not 0 s
/// ```
impl RetryAfterHint for crate::CircuitOpen {
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl<E: RetryAfterHint> RetryAfterHint for crate::CircuitBreakerError<E> {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            crate::CircuitBreakerError::Open(open) => open.retry_after,
            crate::CircuitBreakerError::Inner(e) => e.retry_after(),
        }
    }
}

/// Where a [`Retry`](crate::Retry) finds a Retry-After hint in an error.
///
/// Implemented by [`NoRetryHint`] (the default), [`UseRetryAfterHint`] (errors implementing
/// [`RetryAfterHint`]) and any `Fn(&E) -> Option<Duration>`.
pub trait RetryHintSource<E> {
    /// The hint carried by `error`, if any.
    fn hint(&self, error: &E) -> Option<Duration>;
}

/// No hints: the backoff alone decides.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetryHint;

impl<E> RetryHintSource<E> for NoRetryHint {
    #[inline]
    fn hint(&self, _: &E) -> Option<Duration> {
        None
    }
}

/// Hints from the error's [`RetryAfterHint`] implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct UseRetryAfterHint;

impl<E: RetryAfterHint> RetryHintSource<E> for UseRetryAfterHint {
    fn hint(&self, error: &E) -> Option<Duration> {
        error.retry_after()
    }
}

impl<E, F: Fn(&E) -> Option<Duration>> RetryHintSource<E> for F {
    fn hint(&self, error: &E) -> Option<Duration> {
        self(error)
    }
}

/// The wait before the next attempt: the backoff delay, raised to the hint (itself capped at
/// `max_hint`).
pub(crate) fn wait_with_hint(delay: Duration, hint: Option<Duration>, max_hint: Duration) -> Duration {
    match hint {
        Some(h) => delay.max(h.min(max_hint)),
        None => delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn hint_raises_but_never_lowers_the_wait() {
        assert_eq!(wait_with_hint(S, Some(S * 5), S * 60), S * 5);
        assert_eq!(wait_with_hint(S * 8, Some(S * 5), S * 60), S * 8);
        assert_eq!(wait_with_hint(S, Some(S * 600), S * 60), S * 60);
        assert_eq!(wait_with_hint(S, None, S * 60), S);
    }
}
