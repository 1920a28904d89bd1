//! Ending a call: counting its outcome, recording it in the sliding window, and applying it
//! to the state word when it changes something.

use super::counters::Count;
use super::engine::Inner;
use super::state::{Outcome, State};
use super::sync::{Ordering, fence};
use super::window::Sample;
use std::any::Any;

/// The start mark of a call whose duration is not measured.
pub(crate) const NOT_TIMED: u64 = u64::MAX;
/// The slow-call deadline of a call that cannot be slow.
const NO_SLOW: u64 = u64::MAX;

impl Inner {
    /// When a call admitted now started, if its duration matters (slow calls or the duration
    /// histogram), else [`NOT_TIMED`].
    #[inline(always)]
    pub(crate) fn start_mark(&self) -> u64 {
        if self.cfg.slow_nanos.is_some() || self.cfg.record_durations { self.now_nanos() } else { NOT_TIMED }
    }

    /// When a call that started at `started` becomes slow (or [`NO_SLOW`]).
    #[inline(always)]
    fn slow_at(&self, started: u64) -> u64 {
        match self.cfg.slow_nanos {
            Some(limit) if started != NOT_TIMED => started.saturating_add(limit),
            _ => NO_SLOW,
        }
    }

    /// Records the duration of a call that started at `started` and ended at `now`.
    #[inline(always)]
    fn observe_duration(&self, started: u64, now: u64) {
        if self.cfg.record_durations && started != NOT_TIMED {
            self.metrics.call_duration(now.saturating_sub(started));
        }
    }

    /// How the breaker counts `result`.
    #[inline(always)]
    pub(crate) fn outcome_of<T, E: 'static>(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(e) => self.classify(e),
        }
    }

    /// How the breaker counts `error`: a failure, or ignored if its filter says so.
    pub(crate) fn classify<E: 'static>(&self, error: &E) -> Outcome {
        let counts = self.cfg.record_error.as_ref().is_none_or(|f| f(error as &dyn Any));
        if counts { Outcome::Failure } else { Outcome::Ignored }
    }

    /// Ends a call admitted with state word `admitted`, started at `started`.
    ///
    /// The common case, a success that is not slow and not the first of a time-window bucket,
    /// is one counter increment and one load (plus one clock reading if slow calls or a time
    /// window are measured).
    #[inline(always)]
    pub(crate) fn finish(&self, admitted: u64, outcome: Outcome, started: u64) {
        if outcome != Outcome::Success {
            return self.finish_measured(State::unpack(admitted), outcome, started, None);
        }
        if self.cfg.timed {
            let now = self.now_nanos();
            self.observe_duration(started, now);
            // Slow, or the first call of a new time-window bucket.
            if now >= self.slow_at(started).min(self.bucket_end.load(Ordering::Relaxed)) {
                return self.finish_measured(State::unpack(admitted), outcome, started, Some(now));
            }
        }
        self.count(Count::Success);
        let word = self.word.load(Ordering::Acquire);
        if State::is_clean_closed(word) && State::is_clean_closed(admitted) {
            return;
        }
        self.settle_success(State::unpack(admitted));
    }

    /// Ends a successful call admitted in a closed state with no failures counted, on a
    /// breaker that measures no time: one counter increment and one load.
    #[inline(always)]
    pub(crate) fn finish_plain_success(&self, admitted: u64) {
        self.count(Count::Success);
        // Nothing to do while the breaker is (still, or again) closed with no failures.
        if !State::is_clean_closed(self.word.load(Ordering::Acquire)) {
            self.settle_success(State::unpack(admitted));
        }
    }

    /// Ends a call that was neither reported nor finished (it panicked, or its permit or future
    /// was dropped): a failure.
    #[cold]
    #[inline(never)]
    pub(crate) fn finish_unreported(&self, admitted: u64, started: u64) {
        let name = &*self.cfg.name;
        if std::thread::panicking() {
            tracing::debug!(breaker = name, "guarded call panicked; counted as a failure");
        } else {
            tracing::debug!(breaker = name, "permit dropped unreported; counted as a failure");
        }
        self.finish(admitted, Outcome::Failure, started);
    }

    #[cold]
    fn settle_success(&self, permit: State) {
        if self.window.is_some() && !matches!(permit, State::Closed { .. }) {
            self.count(Count::Unwindowed);
        }
        self.settle(permit, Outcome::Success, false, None);
    }

    #[cold]
    /// `end`: when the call ended, if read already (its duration is then recorded).
    fn finish_measured(&self, permit: State, outcome: Outcome, started: u64, end: Option<u64>) {
        let mut now = end.or_else(|| self.cfg.timed.then(|| self.now_nanos()));
        if let (None, Some(t)) = (end, now) {
            self.observe_duration(started, t);
        }
        let slow_at = self.slow_at(started);
        let slow = slow_at != NO_SLOW && outcome != Outcome::Ignored && now.is_some_and(|n| n >= slow_at);
        self.count(match outcome {
            Outcome::Success => Count::Success,
            Outcome::Failure => Count::Failure,
            Outcome::Ignored => Count::Ignored,
        });
        if slow {
            self.count(Count::Slow);
        }
        // Counted before it is recorded, so that of calls ending together the last one
        // recorded judges a tally holding them all.
        let rate_exceeded = self.record_window(permit, outcome, slow, &mut now);
        self.settle(permit, outcome, rate_exceeded, now);
    }

    /// Applies an outcome to the state word (a disabled breaker's outcomes change nothing).
    fn settle(&self, permit: State, outcome: Outcome, rate_exceeded: bool, now: Option<u64>) {
        if !matches!(permit, State::Disabled { .. }) {
            self.apply(super::state::Event::Finish { permit, outcome, rate_exceeded }, now);
        }
    }

    /// Records a closed-state outcome in the window; true if a rate crossed its threshold.
    fn record_window(&self, permit: State, outcome: Outcome, slow: bool, now: &mut Option<u64>) -> bool {
        let Some(window) = &self.window else { return false };
        if outcome == Outcome::Ignored {
            return false;
        }
        if !matches!(permit, State::Closed { .. }) {
            self.count(Count::Unwindowed);
            return false;
        }
        let failed = outcome == Outcome::Failure;
        let t = if window.needs_clock() { self.now(now) } else { 0 };
        // Numbered by the count before it (concurrent calls may share a number).
        let before = self.window_calls().saturating_sub(1);
        if let Some(end) = window.record(Sample { before, failed, slow }, t) {
            self.bucket_end.fetch_max(end, Ordering::Relaxed);
        }
        // Of two outcomes recorded together, at least one sees the other's record.
        fence(Ordering::SeqCst);
        let tally = window.tally(t, self.window_calls());
        (failed || slow) && self.cfg.rules.exceeded(tally)
    }

    /// Calls the sliding window counts, since the breaker was made: successes and failures of
    /// calls admitted while closed.
    pub(crate) fn window_calls(&self) -> u64 {
        let c = |what| self.counters.get(what);
        (c(Count::Success) + c(Count::Failure)).saturating_sub(c(Count::Unwindowed))
    }
}
