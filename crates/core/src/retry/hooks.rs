//! What to retry and whom to tell: the predicates and the notify callback of a [`Retry`](crate::Retry).

use std::convert::Infallible;
use std::time::Duration;

/// Decides whether an error is worth another attempt.
///
/// Implemented by [`RetryOnAnyError`] (the default) and any `Fn(&E) -> bool`.
pub trait RetryPredicate<E> {
    /// `true` to retry after `error`.
    fn should_retry(&self, error: &E) -> bool;
}

/// Retries every error (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryOnAnyError;

impl<E> RetryPredicate<E> for RetryOnAnyError {
    #[inline]
    fn should_retry(&self, _: &E) -> bool {
        true
    }
}

impl<E, F: Fn(&E) -> bool> RetryPredicate<E> for F {
    #[inline]
    fn should_retry(&self, error: &E) -> bool {
        self(error)
    }
}

/// Decides whether a successful value should still be retried (e.g. a "try later" response).
///
/// Implemented by [`AcceptAnyResult`] (the default) and any `Fn(&T) -> bool`, which retries the
/// values for which it returns `true`. A value still rejected when retrying stops is kept, as
/// [`Rejected`](Self::Rejected), in the [`RetryError`](crate::RetryError) the call ends with.
pub trait ResultPredicate<T> {
    /// What a rejected value is kept as: `T` for a predicate, [`Infallible`] when no value is
    /// ever rejected.
    type Rejected;

    /// `Ok(value)` to accept the value, `Err(rejected)` to retry after it.
    fn check(&self, value: T) -> Result<T, Self::Rejected>;
}

/// Accepts every successful value (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAnyResult;

impl<T> ResultPredicate<T> for AcceptAnyResult {
    type Rejected = Infallible;

    #[inline]
    fn check(&self, value: T) -> Result<T, Infallible> {
        Ok(value)
    }
}

impl<T, F: Fn(&T) -> bool> ResultPredicate<T> for F {
    type Rejected = T;

    #[inline]
    fn check(&self, value: T) -> Result<T, T> {
        if self(&value) { Err(value) } else { Ok(value) }
    }
}

/// Told before each retry: the number of the attempt that failed (from 1), the wait before the
/// next one, and the error.
///
/// Implemented by [`NoRetryNotify`] (the default) and any `Fn(u32, Duration, &E)`.
pub trait RetryNotify<E> {
    /// Called once per retry, before sleeping.
    fn notify(&self, attempt: u32, delay: Duration, error: &E);
}

/// Tells no one (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetryNotify;

impl<E> RetryNotify<E> for NoRetryNotify {
    #[inline]
    fn notify(&self, _: u32, _: Duration, _: &E) {}
}

impl<E, F: Fn(u32, Duration, &E)> RetryNotify<E> for F {
    fn notify(&self, attempt: u32, delay: Duration, error: &E) {
        self(attempt, delay, error)
    }
}
