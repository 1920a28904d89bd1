//! Ending a call: counting its outcome, recording it in the sliding window, and applying it
//! to the state word when it changes something.

use super::counters::Count;
use super::engine::Inner;
use super::state::{Outcome, State};
use super::sync::{Ordering, fence};
use super::window::Sample;

/// The start time of a call whose duration is not measured, and the end time of one whose end
/// is not read.
pub(crate) const NO_START: u64 = u64::MAX;

impl Inner {
    /// The clock reading at which a call admitted now starts, if slow calls are measured
    /// (else [`NO_START`]).
    #[inline(always)]
    pub(crate) fn start_time(&self) -> u64 {
        if self.cfg.slow_nanos.is_some() { self.now_nanos() } else { NO_START }
    }

    /// Ends a call admitted with state word `admitted` that started at `started`.
    ///
    /// The common case, a success that is not slow and not the first of a time-window bucket,
    /// is one counter increment and one load when the word has not changed since admission
    /// (plus one clock reading if slow calls or a time window are measured).
    #[inline(always)]
    pub(crate) fn finish(&self, admitted: u64, outcome: Outcome, started: u64) {
        let now = if self.cfg.timed { self.now_nanos() } else { NO_START };
        if outcome != Outcome::Success || !self.quiet(started, now) {
            return self.finish_measured(State::unpack(admitted), outcome, started, now);
        }
        self.count(Count::Success);
        if State::is_clean_closed(admitted) && self.word.load(Ordering::Acquire) == admitted {
            return;
        }
        self.settle_success(State::unpack(admitted));
    }

    /// True if a success ending at `now` is only counted: not slow, and not the first call of
    /// a time-window bucket.
    #[inline(always)]
    fn quiet(&self, started: u64, now: u64) -> bool {
        if now == NO_START {
            return true;
        }
        let slow = self.cfg.slow_nanos.is_some_and(|limit| now.saturating_sub(started) >= limit);
        !slow && self.window.as_ref().is_none_or(|w| w.quiet_at(now))
    }

    #[cold]
    fn settle_success(&self, permit: State) {
        if self.window.is_some() && !matches!(permit, State::Closed { .. }) {
            self.count(Count::Unwindowed);
        }
        self.settle(permit, Outcome::Success, false, None);
    }

    #[cold]
    fn finish_measured(&self, permit: State, outcome: Outcome, started: u64, end: u64) {
        let mut now = (end != NO_START).then_some(end);
        let slow = match (now, self.cfg.slow_nanos) {
            (Some(n), Some(limit)) if started != NO_START => {
                n.saturating_sub(started) >= limit && outcome != Outcome::Ignored
            }
            _ => false,
        };
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
        window.record(Sample { before, failed, slow }, t);
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
