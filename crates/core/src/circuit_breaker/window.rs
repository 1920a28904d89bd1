//! Sliding windows of call outcomes: lock-free, bounded memory.
//!
//! A count window keeps the last N outcomes in a ring of bytes; a time window keeps 64
//! buckets, each `ceil(T / 64)` long, and counts the current bucket plus the 63 before it.
//! Both are true sliding windows: old outcomes fall out as new calls (or time) arrive.

use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How the failure-rate and slow-call-rate windows measure "recent".
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

/// Largest count window accepted (one byte per call slot).
pub const MAX_COUNT_WINDOW: u32 = 1 << 20;
/// Number of buckets of a time window.
pub const TIME_WINDOW_BUCKETS: u64 = 64;

pub(crate) const RECORDED: u8 = 1;
pub(crate) const FAILED: u8 = 2;
pub(crate) const SLOW: u8 = 4;

/// Counts over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tally {
    pub calls: u64,
    pub failures: u64,
    pub slow: u64,
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

    /// Records one outcome (`RECORDED` plus `FAILED` / `SLOW` bits) and returns the tally.
    pub(crate) fn record(&self, sample: u8, now: u64) -> Tally {
        match self {
            Window::Count(w) => w.record(sample),
            Window::Time(w) => w.record(sample, now),
        }
    }

    /// Forgets every recorded outcome.
    pub(crate) fn clear(&self) {
        match self {
            Window::Count(w) => w.clear(),
            Window::Time(w) => w.clear(),
        }
    }
}

/// The last N outcomes, one byte each, with running totals.
#[derive(Debug)]
pub(crate) struct CountWindow {
    slots: Box<[AtomicU8]>,
    cursor: AtomicU64,
    calls: AtomicI64,
    failures: AtomicI64,
    slow: AtomicI64,
}

fn bit(sample: u8, mask: u8) -> i64 {
    i64::from(sample & mask != 0)
}

impl CountWindow {
    fn new(size: u32) -> Self {
        let slots = (0..size.max(1)).map(|_| AtomicU8::new(0)).collect();
        Self {
            slots,
            cursor: AtomicU64::new(0),
            calls: AtomicI64::new(0),
            failures: AtomicI64::new(0),
            slow: AtomicI64::new(0),
        }
    }

    fn record(&self, sample: u8) -> Tally {
        let i = self.cursor.fetch_add(1, Relaxed) % self.slots.len() as u64;
        let old = self.slots[i as usize].swap(sample, Relaxed);
        self.adjust(old, sample);
        self.tally()
    }

    /// Moves the totals from slot value `old` to `new`; every swap is matched by one adjust,
    /// so the totals always converge to the sum of the slots.
    fn adjust(&self, old: u8, new: u8) {
        for (total, mask) in [(&self.calls, RECORDED), (&self.failures, FAILED), (&self.slow, SLOW)] {
            let delta = bit(new, mask) - bit(old, mask);
            if delta != 0 {
                total.fetch_add(delta, Relaxed);
            }
        }
    }

    fn tally(&self) -> Tally {
        let read = |a: &AtomicI64| a.load(Relaxed).max(0) as u64;
        Tally { calls: read(&self.calls), failures: read(&self.failures), slow: read(&self.slow) }
    }

    fn clear(&self) {
        for slot in self.slots.iter() {
            let old = slot.swap(0, Relaxed);
            self.adjust(old, 0);
        }
    }
}

/// Outcomes of the last T, in buckets.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    width: u64,
    buckets: Box<[Bucket]>,
}

/// One bucket; `stamp` is its bucket number plus one (0: never used, `LOCKED`: being reset).
#[derive(Debug, Default)]
struct Bucket {
    stamp: AtomicU64,
    calls: AtomicU64,
    failures: AtomicU64,
    slow: AtomicU64,
}

const LOCKED: u64 = u64::MAX;

impl TimeWindow {
    fn new(span: Duration) -> Self {
        let nanos = crate::clock::duration_to_nanos(span).max(1);
        let width = nanos.div_ceil(TIME_WINDOW_BUCKETS);
        let buckets = (0..TIME_WINDOW_BUCKETS).map(|_| Bucket::default()).collect();
        Self { width, buckets }
    }

    fn record(&self, sample: u8, now: u64) -> Tally {
        let epoch = now / self.width;
        let bucket = &self.buckets[(epoch % TIME_WINDOW_BUCKETS) as usize];
        if self.claim(bucket, epoch + 1) {
            bucket.calls.fetch_add(1, Relaxed);
            if sample & FAILED != 0 {
                bucket.failures.fetch_add(1, Relaxed);
            }
            if sample & SLOW != 0 {
                bucket.slow.fetch_add(1, Relaxed);
            }
        }
        self.tally(epoch)
    }

    /// Makes `bucket` hold `stamp`, resetting it if it holds an older one. False if the bucket
    /// already moved on to a newer stamp (the caller's time is stale; the sample is dropped).
    fn claim(&self, bucket: &Bucket, stamp: u64) -> bool {
        loop {
            let seen = bucket.stamp.load(std::sync::atomic::Ordering::Acquire);
            if seen == stamp {
                return true;
            }
            if seen == LOCKED {
                std::hint::spin_loop();
                continue;
            }
            if seen > stamp {
                return false;
            }
            if bucket.stamp.compare_exchange(seen, LOCKED, Relaxed, Relaxed).is_ok() {
                for c in [&bucket.calls, &bucket.failures, &bucket.slow] {
                    c.store(0, Relaxed);
                }
                bucket.stamp.store(stamp, std::sync::atomic::Ordering::Release);
                return true;
            }
        }
    }

    fn tally(&self, epoch: u64) -> Tally {
        let oldest = (epoch + 1).saturating_sub(TIME_WINDOW_BUCKETS - 1);
        let mut t = Tally::default();
        for b in self.buckets.iter() {
            let stamp = b.stamp.load(std::sync::atomic::Ordering::Acquire);
            if stamp != LOCKED && stamp >= oldest && stamp <= epoch + 1 && stamp != 0 {
                t.calls += b.calls.load(Relaxed);
                t.failures += b.failures.load(Relaxed);
                t.slow += b.slow.load(Relaxed);
            }
        }
        t
    }

    fn clear(&self) {
        for b in self.buckets.iter() {
            for c in [&b.calls, &b.failures, &b.slow] {
                c.store(0, Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_window_slides() {
        let w = Window::new(SlidingWindow::Count(3));
        w.record(RECORDED | FAILED, 0);
        w.record(RECORDED, 0);
        let t = w.record(RECORDED | SLOW, 0);
        assert_eq!(t, Tally { calls: 3, failures: 1, slow: 1 });
        let t = w.record(RECORDED, 0);
        assert_eq!(t, Tally { calls: 3, failures: 0, slow: 1 });
        w.clear();
        assert_eq!(w.record(RECORDED, 0), Tally { calls: 1, failures: 0, slow: 0 });
    }

    #[test]
    fn time_window_forgets_old_buckets() {
        let w = Window::new(SlidingWindow::Time(Duration::from_nanos(64)));
        w.record(RECORDED | FAILED, 0);
        assert_eq!(w.record(RECORDED, 63), Tally { calls: 2, failures: 1, slow: 0 });
        assert_eq!(w.record(RECORDED, 64), Tally { calls: 2, failures: 0, slow: 0 });
        assert_eq!(w.record(RECORDED, 64 + 200), Tally { calls: 1, failures: 0, slow: 0 });
    }
}
