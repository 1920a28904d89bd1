//! Sliding windows of call outcomes: lock-free, bounded memory, nothing written per success.
//!
//! Calls are counted by the breaker's striped call counters (a thread adds to its own stripe),
//! so a successful call that is neither slow nor the first of a time bucket costs a window
//! nothing. Only failures and slow calls go into a ring of 64 buckets (see `ring.rs`), together
//! with the call count at which each bucket started.
//!
//! A count window of N calls numbers each call by the count before it and keeps failures in
//! buckets of `ceil(N / 64)` calls; it judges the rates over the calls since the first whole
//! bucket inside the last N (all of the last N when N <= 64), and its minimum over the last N.
//! A time window keeps 64 buckets, each `ceil(T / 64)` long, and counts the current bucket plus
//! the 63 before it; its calls are the calls since the oldest of those buckets began. Both are
//! true sliding windows: old outcomes fall out as new calls (or time) arrive.

use super::ring::{BUCKETS, Ring};
use super::sync::{AtomicU64, Ordering::Acquire, Ordering::Relaxed};
use std::time::Duration;

/// How the failure-rate and slow-call-rate windows measure "recent".
///
/// A count window longer than 64 calls counts in 64 buckets: it judges the failure and
/// slow-call rates over the calls since the first bucket boundary inside the window, that is
/// over the last `N - ceil(N / 64) + 1` to `N` calls (for 100: the last 99 or 100), and its
/// `minimum_calls` over the last N. Windows of up to 64 calls are exact.
///
/// ```
/// use elf_resilience_core::{CircuitBreaker, CircuitState, SlidingWindow};
/// use std::time::Duration;
///
/// // Open when half of the last 4 calls failed, however they were interleaved.
/// let cb = CircuitBreaker::builder()
///     .failure_threshold(100)
///     .sliding_window(SlidingWindow::Count(4))
///     .failure_rate_threshold(50.0)
///     .minimum_calls(4)
///     .build()
///     .unwrap();
/// for ok in [true, false, true, false] {
///     let _ = cb.call(|| if ok { Ok(()) } else { Err("flaky") });
/// }
/// assert_eq!(cb.state(), CircuitState::Open);
///
/// // Or over the calls of the last minute (64 buckets of 0.94 s).
/// let _ = SlidingWindow::Time(Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlidingWindow {
    /// The last `n` calls.
    Count(u32),
    /// The calls of the last duration (in 64 buckets).
    Time(Duration),
}

/// Largest count window accepted.
pub const MAX_COUNT_WINDOW: u32 = 1 << 20;
/// Number of buckets of a time window.
pub const TIME_WINDOW_BUCKETS: u64 = BUCKETS;

/// The bucket end of a window that records no successful call.
pub(crate) const NO_BUCKET_END: u64 = u64::MAX;

/// Counts over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tally {
    /// Calls in the window, for the minimum.
    pub calls: u64,
    /// Calls the rates are judged over (fewer than `calls` for a long count window).
    pub rated: u64,
    pub failures: u64,
    pub slow: u64,
}

/// One outcome for the window: the call count before it, and what it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sample {
    pub before: u64,
    pub failed: bool,
    pub slow: bool,
}

/// A window with its storage.
#[derive(Debug)]
pub(crate) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Window {
    pub(crate) fn new(kind: SlidingWindow) -> Self {
        match kind {
            SlidingWindow::Count(n) => Window::Count(CountWindow::new(n)),
            SlidingWindow::Time(d) => Window::Time(TimeWindow::new(d)),
        }
    }

    /// True if recording needs the current time.
    pub(crate) fn needs_clock(&self) -> bool {
        matches!(self, Window::Time(_))
    }

    /// Where a successful call is first recorded: [`NO_BUCKET_END`] for a count window (its
    /// successes are counted by the call counters alone), 0 for a time window (the first call
    /// claims a bucket).
    pub(crate) fn initial_bucket_end(&self) -> u64 {
        match self {
            Window::Count(_) => NO_BUCKET_END,
            Window::Time(_) => 0,
        }
    }

    /// Records one outcome at `now`. A time window returns when the bucket it went into ends:
    /// until then, a successful call needs no recording.
    pub(crate) fn record(&self, sample: Sample, now: u64) -> Option<u64> {
        match self {
            Window::Count(w) => {
                w.record(sample);
                None
            }
            Window::Time(w) => w.record(sample, now),
        }
    }

    /// The tally at `now` with `calls` calls counted in all. Read after recording, with the
    /// count read after it too, so that of outcomes recorded together the last one's tally
    /// holds them all.
    pub(crate) fn tally(&self, now: u64, calls: u64) -> Tally {
        match self {
            Window::Count(w) => w.tally(calls),
            Window::Time(w) => w.tally(now / w.width, calls),
        }
    }

    /// Forgets every recorded outcome; `calls` is the call count now. The next successful
    /// call is recorded from [`initial_bucket_end`](Self::initial_bucket_end) on again.
    pub(crate) fn clear(&self, calls: u64) {
        match self {
            Window::Count(w) => w.clear(calls),
            Window::Time(w) => w.ring.clear(),
        }
    }
}

/// The last N calls.
#[derive(Debug)]
pub(crate) struct CountWindow {
    size: u64,
    /// Calls per bucket.
    width: u64,
    /// The call count when the window was last cleared.
    base: AtomicU64,
    ring: Ring,
}

impl CountWindow {
    fn new(size: u32) -> Self {
        let size = u64::from(size.max(1));
        Self { size, width: size.div_ceil(BUCKETS), base: AtomicU64::new(0), ring: Ring::new() }
    }

    fn record(&self, s: Sample) {
        if (s.failed || s.slow)
            && let Some(bucket) = self.ring.claim(s.before / self.width, 0)
        {
            bucket.add(s.failed, s.slow);
        }
    }

    /// The tally with `calls` calls counted in all.
    fn tally(&self, calls: u64) -> Tally {
        let base = self.base.load(Relaxed).min(calls);
        let oldest = calls.saturating_sub(self.size);
        // A full window is judged from its first bucket boundary on.
        let from = if oldest <= base { base } else { oldest.div_ceil(self.width) * self.width };
        let mut t = Tally { calls: (calls - base).min(self.size), rated: calls - from, ..Tally::default() };
        for b in self.ring.live(from / self.width, calls.saturating_sub(1) / self.width) {
            t.failures += b.failures.load(Acquire);
            t.slow += b.slow.load(Acquire);
        }
        t
    }

    fn clear(&self, calls: u64) {
        self.ring.clear();
        self.base.store(calls, Relaxed);
    }
}

/// Outcomes of the last T, in buckets. The breaker keeps when the latest bucket seen ends
/// (see [`Window::record`]): the first call at or after it claims a new bucket.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    width: u64,
    ring: Ring,
}

impl TimeWindow {
    fn new(span: Duration) -> Self {
        let nanos = crate::clock::duration_to_nanos(span).max(1);
        Self { width: nanos.div_ceil(BUCKETS), ring: Ring::new() }
    }

    /// Records `s` in the bucket of `now`; when that bucket ends, unless the reading was stale.
    fn record(&self, s: Sample, now: u64) -> Option<u64> {
        let n = now / self.width;
        let bucket = self.ring.claim(n, s.before)?;
        bucket.add(s.failed, s.slow);
        Some((n + 1).saturating_mul(self.width))
    }

    /// The tally in bucket `n` with `calls` calls counted in all.
    fn tally(&self, n: u64, calls: u64) -> Tally {
        let mut t = Tally::default();
        let mut start = calls;
        for b in self.ring.live((n + 1).saturating_sub(BUCKETS), n) {
            t.failures += b.failures.load(Acquire);
            t.slow += b.slow.load(Acquire);
            start = start.min(b.start.load(Relaxed));
        }
        t.calls = calls - start;
        t.rated = t.calls;
        t
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn sample(before: u64, failed: bool, slow: bool) -> Sample {
        Sample { before, failed, slow }
    }

    /// Records `sample` at `now` and tallies with the calls up to it.
    fn step(w: &Window, s: Sample, now: u64) -> (u64, u64, u64, u64) {
        w.record(s, now);
        let t = w.tally(now, s.before + 1);
        (t.calls, t.rated, t.failures, t.slow)
    }

    #[test]
    fn count_window_slides() {
        let w = Window::new(SlidingWindow::Count(3));
        assert_eq!(w.initial_bucket_end(), NO_BUCKET_END, "no success is recorded");
        assert_eq!(w.record(sample(0, true, false), 0), None);
        assert_eq!(w.tally(0, 1), Tally { calls: 1, rated: 1, failures: 1, slow: 0 });
        step(&w, sample(1, false, false), 0);
        assert_eq!(step(&w, sample(2, false, true), 0), (3, 3, 1, 1));
        assert_eq!(step(&w, sample(3, false, false), 0), (3, 3, 0, 1));
        w.clear(4);
        assert_eq!(step(&w, sample(4, false, false), 0), (1, 1, 0, 0));
    }

    #[test]
    fn a_long_count_window_rates_from_its_first_whole_bucket() {
        let w = Window::new(SlidingWindow::Count(100)); // buckets of 2 calls
        assert_eq!(step(&w, sample(0, true, false), 0), (1, 1, 1, 0));
        assert_eq!(step(&w, sample(99, true, false), 0), (100, 100, 2, 0));
        // Calls 1..=100 are the last 100; rated from call 2 on (bucket 1), so call 0 is out.
        assert_eq!(step(&w, sample(100, false, false), 0), (100, 99, 1, 0));
    }

    #[test]
    fn time_window_forgets_old_buckets() {
        let w = Window::new(SlidingWindow::Time(Duration::from_nanos(64)));
        assert_eq!(w.initial_bucket_end(), 0, "the first call claims a bucket");
        assert_eq!(w.record(sample(0, true, false), 0), Some(1), "its bucket ends at 1 ns");
        assert_eq!(w.tally(0, 1), Tally { calls: 1, rated: 1, failures: 1, slow: 0 });
        assert_eq!(step(&w, sample(1, false, false), 63), (2, 2, 1, 0));
        assert_eq!(step(&w, sample(2, false, false), 64), (2, 2, 0, 0));
        assert_eq!(step(&w, sample(3, false, false), 64 + 200), (1, 1, 0, 0));
    }
}
