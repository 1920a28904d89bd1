//! A call through [`CircuitBreaker::call`](super::CircuitBreaker::call) once admitted: run,
//! then report. No permit is built: nothing is left to drop once the call has returned.

use super::engine::Inner;
use super::finish::NOT_TIMED;

/// A call in flight: dropped before it [lands](Self::land) (the call panicked), it counts as a
/// failure. Unlike a permit it has no flag to test once reported: landing forgets it.
struct InFlight<'a> {
    inner: &'a Inner,
    admitted: u64,
    started: u64,
}

impl InFlight<'_> {
    /// The call returned: from here on its outcome is reported, not its drop.
    #[inline(always)]
    fn land(self) {
        std::mem::forget(self);
    }
}

impl Drop for InFlight<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.inner.finish_unreported(self.admitted, self.started);
    }
}

impl Inner {
    /// Runs `f`, admitted in the clean closed state word `admitted` of a breaker that reads no
    /// clock per call (the common case: its success is one counter increment and one load).
    #[inline(always)]
    pub(crate) fn run_plain<T, E: 'static>(
        &self,
        admitted: u64,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let flight = InFlight { inner: self, admitted, started: NOT_TIMED };
        let result = f();
        match &result {
            Ok(_) => {
                flight.land();
                self.finish_plain_success(admitted);
            }
            Err(e) => {
                let outcome = self.classify(e);
                flight.land();
                self.finish(admitted, outcome, NOT_TIMED);
            }
        }
        result
    }

    /// Runs `f`, admitted in state word `admitted`.
    #[inline(always)]
    pub(crate) fn run<T, E: 'static>(&self, admitted: u64, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let started = self.start_mark();
        let flight = InFlight { inner: self, admitted, started };
        let result = f();
        let outcome = self.outcome_of(&result);
        flight.land();
        self.finish(admitted, outcome, started);
        result
    }
}
