//! Time sources for every policy.
//!
//! No policy reads the wall clock directly: each takes a [`Clock`]. Production code uses
//! [`SystemClock`] (monotonic, read from the CPU's time-stamp counter where it is stable); tests drive a [`ManualClock`] by hand, and async code under
//! tokio's paused time uses [`TokioClock`].
//!
//! A clock reports monotonic time as nanoseconds since its own epoch ([`Clock::now_nanos`]), a
//! plain `u64` that fits in one atomic, and wall time ([`Clock::wall`]) for reports.
//!
//! ```
//! use elf_resilience_core::{Clock, ManualClock};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let shared = clock.clone();
//! clock.advance(Duration::from_secs(3));
//! assert_eq!(shared.now(), Duration::from_secs(3));
//! ```

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A source of monotonic and wall time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic nanoseconds since this clock's epoch. Never goes backwards.
    fn now_nanos(&self) -> u64;

    /// Wall-clock time, for reports and history. Not used for policy decisions.
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    /// Monotonic time since this clock's epoch as a [`Duration`].
    fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now_nanos(&self) -> u64 {
        (**self).now_nanos()
    }
    fn wall(&self) -> SystemTime {
        (**self).wall()
    }
}

/// A shareable, type-erased clock: what policies store.
pub type SharedClock = Arc<dyn Clock>;

/// Converts a duration to nanoseconds, saturating at `u64::MAX` (about 584 years).
pub const fn duration_to_nanos(d: Duration) -> u64 {
    let n = d.as_nanos();
    if n > u64::MAX as u128 { u64::MAX } else { n as u64 }
}

/// The process-wide counter clock and its reading at the epoch (first use).
fn counter() -> &'static (quanta::Clock, u64) {
    static COUNTER: OnceLock<(quanta::Clock, u64)> = OnceLock::new();
    COUNTER.get_or_init(|| {
        let clock = quanta::Clock::new();
        let epoch = clock.raw();
        (clock, epoch)
    })
}

thread_local! {
    /// The last reading on this thread, so a reading never goes below an earlier one even if
    /// the thread moves to a core whose counter lags.
    static LAST: Cell<u64> = const { Cell::new(0) };
}

/// The monotonic system clock, the default for every policy.
///
/// It reads the CPU's time-stamp counter, calibrated against the OS monotonic clock once per
/// process (via `quanta`): a few nanoseconds per reading where `Instant::now` costs tens.
/// Where no invariant counter exists it reads the OS monotonic clock instead. Its epoch is the
/// first reading in the process; readings on one thread never decrease.
///
/// ```
/// use elf_resilience_core::{Clock, SystemClock};
///
/// let a = SystemClock.now_nanos();
/// let b = SystemClock.now_nanos();
/// assert!(b >= a);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The system clock as a [`SharedClock`].
    pub fn shared() -> SharedClock {
        static SHARED: OnceLock<SharedClock> = OnceLock::new();
        SHARED.get_or_init(|| Arc::new(SystemClock)).clone()
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        let (clock, epoch) = counter();
        let now = clock.delta_as_nanos(*epoch, clock.raw());
        LAST.with(|last| {
            let now = now.max(last.get());
            last.set(now);
            now
        })
    }
}

/// A clock that moves only when told to. Clones share the same time.
///
/// Its wall time is a fixed start (by default the Unix epoch plus 1.7e9 s, a date in 2023) plus
/// the monotonic offset, so reports built under a manual clock are reproducible.
#[derive(Clone)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
    wall_start: SystemTime,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock").field("now", &self.now()).finish()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
    }

    /// A clock at time zero whose wall time starts at `wall_start`.
    pub fn starting_at(wall_start: SystemTime) -> Self {
        Self { nanos: Arc::new(AtomicU64::new(0)), wall_start }
    }

    /// Moves time forward by `by` for this clock and all its clones.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(duration_to_nanos(by), Ordering::SeqCst);
    }

    /// Sets the monotonic time to `to`, if that is not earlier than now.
    pub fn set(&self, to: Duration) {
        self.nanos.fetch_max(duration_to_nanos(to), Ordering::SeqCst);
    }

    /// This clock as a [`SharedClock`], sharing time with `self`.
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::SeqCst)
    }
    fn wall(&self) -> SystemTime {
        self.wall_start + self.now()
    }
}

/// A clock that follows tokio's time, so policies obey `tokio::time::pause` and `advance`.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    epoch: tokio::time::Instant,
}

#[cfg(feature = "tokio")]
impl TokioClock {
    /// A clock whose epoch is tokio's "now" at the time of the call.
    pub fn new() -> Self {
        Self { epoch: tokio::time::Instant::now() }
    }

    /// This clock as a [`SharedClock`].
    pub fn shared() -> SharedClock {
        Arc::new(Self::new())
    }
}

#[cfg(feature = "tokio")]
impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "tokio")]
impl Clock for TokioClock {
    fn now_nanos(&self) -> u64 {
        duration_to_nanos(self.epoch.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_by_clones() {
        let a = ManualClock::new();
        let b = a.clone();
        a.advance(Duration::from_millis(1500));
        assert_eq!(b.now(), Duration::from_millis(1500));
        assert_eq!(b.wall(), a.wall_start + Duration::from_millis(1500));
    }

    #[test]
    fn manual_clock_set_never_goes_back() {
        let c = ManualClock::new();
        c.set(Duration::from_secs(5));
        c.set(Duration::from_secs(2));
        assert_eq!(c.now(), Duration::from_secs(5));
    }

    #[test]
    fn system_clock_is_monotonic() {
        let c = SystemClock;
        let a = c.now_nanos();
        let b = c.now_nanos();
        assert!(b >= a);
    }

    fn work() -> u64 {
        (0..2_000_000u64).fold(0, |acc, i| std::hint::black_box(acc ^ i.wrapping_mul(31)))
    }

    #[test]
    fn system_clock_counts_nanoseconds() {
        // The counter interval encloses the std interval in the first measurement and is
        // enclosed by it in the second, so calibration errors show in either direction.
        let (c0, i0) = (SystemClock.now_nanos(), std::time::Instant::now());
        work();
        let (i1, c1) = (std::time::Instant::now(), SystemClock.now_nanos());
        let (outer, inner) = (c1 - c0, duration_to_nanos(i1 - i0));
        assert!(outer as f64 >= inner as f64 * 0.95, "counter {outer} ns < std {inner} ns");
        let (i0, c0) = (std::time::Instant::now(), SystemClock.now_nanos());
        work();
        let (c1, i1) = (SystemClock.now_nanos(), std::time::Instant::now());
        let (inner, outer) = (c1 - c0, duration_to_nanos(i1 - i0));
        assert!(inner as f64 <= outer as f64 * 1.05, "counter {inner} ns > std {outer} ns");
        assert!(inner > 0);
    }

    #[test]
    fn saturates_huge_durations() {
        assert_eq!(duration_to_nanos(Duration::MAX), u64::MAX);
    }

    #[cfg(feature = "tokio")]
    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let c = TokioClock::new();
        tokio::time::advance(Duration::from_secs(7)).await;
        assert_eq!(c.now(), Duration::from_secs(7));
    }
}
