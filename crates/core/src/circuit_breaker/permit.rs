//! Permits: the low-level API under `call`, for adapters (tower layers, fallback chains).
//!
//! [`CircuitBreaker::try_acquire`](super::CircuitBreaker::try_acquire) admits a call and
//! returns a permit; the caller runs the call and reports how it ended with exactly one of
//! [`success`](CircuitPermit::success), [`failure`](CircuitPermit::failure),
//! [`ignore`](CircuitPermit::ignore) or [`record`](CircuitPermit::record). A permit dropped
//! without a report (the call panicked, or its future was dropped mid-flight) counts as a
//! failure, so a half-open probe slot is never leaked.

use super::CircuitState;
use super::engine::Inner;
use super::state::{Outcome, State};
use std::sync::Arc;

/// What a permit remembers: the state it was admitted in and when the call started (if timed).
#[derive(Debug, Clone, Copy)]
struct Ticket {
    admitted: u64,
    started: u64,
    done: bool,
}

impl Ticket {
    #[inline(always)]
    fn new(admitted: u64, inner: &Inner) -> Self {
        Self { admitted, started: inner.start_mark(), done: false }
    }

    #[inline(always)]
    fn finish(&mut self, inner: &Inner, outcome: Outcome) {
        if !self.done {
            self.done = true;
            inner.finish(self.admitted, outcome, self.started);
        }
    }

    #[inline(always)]
    fn drop_unreported(&mut self, inner: &Inner) {
        if !self.done {
            self.done = true;
            inner.finish_unreported(self.admitted, self.started);
        }
    }
}

macro_rules! permit_methods {
    () => {
        /// Reports a successful call.
        #[inline(always)]
        pub fn success(mut self) {
            self.ticket.finish(&self.inner, Outcome::Success);
        }

        /// Reports a failed call.
        pub fn failure(mut self) {
            self.ticket.finish(&self.inner, Outcome::Failure);
        }

        /// Reports a call whose outcome the breaker should not count (a half-open probe slot
        /// is given back).
        pub fn ignore(mut self) {
            self.ticket.finish(&self.inner, Outcome::Ignored);
        }

        /// Reports an error: a failure if the breaker counts this error (see
        /// [`record_error_if`](super::CircuitBreakerBuilder::record_error_if)), else ignored.
        pub fn error<E: 'static>(mut self, error: &E) {
            let outcome = self.inner.classify(error);
            self.ticket.finish(&self.inner, outcome);
        }

        /// Reports a result: `Ok` is a success, `Err` as in [`error`](Self::error).
        #[inline(always)]
        pub fn record<T, E: 'static>(mut self, result: &Result<T, E>) {
            let outcome = self.inner.outcome_of(result);
            self.ticket.finish(&self.inner, outcome);
        }

        /// The state the call was admitted in: closed, half-open (a probe) or disabled.
        pub fn admitted_in(&self) -> CircuitState {
            State::unpack(self.ticket.admitted).kind()
        }
    };
}

/// Permission for one call through a breaker, borrowed from it.
///
/// ```
/// use elf_resilience_core::CircuitBreaker;
///
/// let cb = CircuitBreaker::new("payments");
/// let permit = cb.try_acquire().expect("closed breaker admits");
/// let result: Result<u32, &str> = Ok(7);
/// permit.record(&result);
/// assert_eq!(cb.stats().successful_calls, 1);
/// ```
#[derive(Debug)]
#[must_use = "report the outcome with success(), failure(), ignore() or record(); dropping counts as a failure"]
pub struct CircuitPermit<'a> {
    inner: &'a Inner,
    ticket: Ticket,
}

impl<'a> CircuitPermit<'a> {
    #[inline(always)]
    pub(crate) fn new(inner: &'a Inner, admitted: u64) -> Self {
        Self { ticket: Ticket::new(admitted, inner), inner }
    }

    permit_methods!();
}

impl Drop for CircuitPermit<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.ticket.drop_unreported(self.inner);
    }
}

/// Permission for one call, owning a handle to the breaker (`'static`, for futures and
/// services). Taking one clones the breaker's `Arc` (one reference-count increment); the
/// handle is released when the permit is dropped.
#[derive(Debug)]
#[must_use = "report the outcome with success(), failure(), ignore() or record(); dropping counts as a failure"]
pub struct OwnedCircuitPermit {
    inner: Arc<Inner>,
    ticket: Ticket,
}

impl OwnedCircuitPermit {
    #[inline(always)]
    pub(crate) fn new(inner: &Arc<Inner>, admitted: u64) -> Self {
        Self { ticket: Ticket::new(admitted, inner), inner: inner.clone() }
    }

    permit_methods!();
}

impl Drop for OwnedCircuitPermit {
    #[inline(always)]
    fn drop(&mut self) {
        self.ticket.drop_unreported(&self.inner);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::CircuitBreaker;
    use std::sync::Arc;

    #[test]
    fn an_owned_permit_holds_its_breaker_only_while_it_lives() {
        let cb = CircuitBreaker::new("lease-a");
        let permit = cb.try_acquire_owned().unwrap();
        assert_eq!(Arc::strong_count(&cb.inner), 2, "the permit holds a handle");
        drop(permit);
        assert_eq!(Arc::strong_count(&cb.inner), 1, "nothing keeps the released handle");
        assert_eq!(cb.stats().failed_calls, 1);
    }
}
