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

    /// True if a successful call at `now` needs no recording (it is counted by the call
    /// counters alone): always for a count window; for a time window unless it is the first
    /// call this window sees in a new bucket.
    #[inline(always)]
    pub(crate) fn quiet_at(&self, now: u64) -> bool {
        match self {
            Window::Count(_) => true,
            Window::Time(w) => now < w.next_bucket.load(Relaxed),
        }
    }

    /// Records one outcome at `now`.
    pub(crate) fn record(&self, sample: Sample, now: u64) {
        match self {
            Window::Count(w) => w.record(sample),
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

    /// Forgets every recorded outcome; `calls` is the call count now.
    pub(crate) fn clear(&self, calls: u64) {
        match self {
            Window::Count(w) => w.clear(calls),
            Window::Time(w) => w.clear(),
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

/// Outcomes of the last T, in buckets.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    width: u64,
    /// When the latest bucket seen ends: the first call at or after it claims a new bucket.
    next_bucket: AtomicU64,
    ring: Ring,
}

impl TimeWindow {
    fn new(span: Duration) -> Self {
        let nanos = crate::clock::duration_to_nanos(span).max(1);
        Self { width: nanos.div_ceil(BUCKETS), next_bucket: AtomicU64::new(0), ring: Ring::new() }
    }

    fn record(&self, s: Sample, now: u64) {
        let n = now / self.width;
        if let Some(bucket) = self.ring.claim(n, s.before) {
            bucket.add(s.failed, s.slow);
            self.next_bucket.fetch_max((n + 1).saturating_mul(self.width), Relaxed);
        }
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

    fn clear(&self) {
        self.ring.clear();
        // The next call claims its bucket afresh.
        self.next_bucket.store(0, Relaxed);
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
        step(&w, sample(0, true, false), 0);
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
        assert!(!w.quiet_at(0), "the first call claims a bucket");
        step(&w, sample(0, true, false), 0);
        assert!(w.quiet_at(0) && !w.quiet_at(1));
        assert_eq!(step(&w, sample(1, false, false), 63), (2, 2, 1, 0));
        assert_eq!(step(&w, sample(2, false, false), 64), (2, 2, 0, 0));
        assert_eq!(step(&w, sample(3, false, false), 64 + 200), (1, 1, 0, 0));
    }
}
