//! A retry budget shared between callers, after Finagle and tower.

use crate::sync::{AtomicU64, Ordering};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::clock::{SharedClock, SystemClock, duration_to_nanos};

const BUCKETS: u32 = 10;
/// What one call deposits when retries are a percentage of calls.
const DEPOSIT: i64 = 1000;

/// Caps retries to a share of recent calls, so a struggling service is not buried under
/// retries (retry storms).
///
/// Every call deposits into the budget; every retry withdraws. Retries may be up to
/// `retry_ratio` of the calls seen over the last `ttl`, plus `min_per_sec` retries per second
/// regardless of traffic, so quiet clients can still retry. Deposits expire after `ttl`.
///
/// Clones share the budget, so several [`Retry`](crate::Retry) policies can draw on one.
/// The window is [`BUCKETS`](Self) buckets of `ttl / 10`, each one atomic word: no locks, bounded
/// memory. Under heavy contention two threads may both take the last retry (as in tower).
///
/// # Default
///
/// | setting       | value |
/// |---------------|-------|
/// | `ttl`         | 10 s  |
/// | `min_per_sec` | 10    |
/// | `retry_ratio` | 0.2   |
///
/// # Example
///
/// ```
/// use elf_resilience_core::{ManualClock, RetryBudget};
/// use std::time::Duration;
///
/// let budget = RetryBudget::builder().min_per_sec(0).retry_ratio(0.5).clock(ManualClock::new()).build()?;
/// assert!(!budget.withdraw()); // nothing deposited yet
/// budget.deposit();
/// budget.deposit();
/// assert!(budget.withdraw()); // two calls pay for one retry
/// assert!(!budget.withdraw());
/// # Ok::<(), elf_resilience_core::InvalidRetryBudget>(())
/// ```
#[derive(Clone)]
pub struct RetryBudget {
    inner: Arc<BudgetInner>,
}

struct BudgetInner {
    buckets: [AtomicU64; BUCKETS as usize],
    width_nanos: u64,
    deposit: i64,
    withdraw: i64,
    reserve: i64,
    clock: SharedClock,
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("available_retries", &self.available_retries())
            .field("bucket_width", &Duration::from_nanos(self.inner.width_nanos))
            .finish()
    }
}

/// A retry budget setting out of range.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum InvalidRetryBudget {
    /// `ttl` must be between 10 ms and one hour.
    #[error("retry budget ttl must be between 10ms and 1h, got {0:?}")]
    TtlOutOfRange(Duration),
    /// `retry_ratio` must be finite and between 0 and 1000.
    #[error("retry budget retry_ratio must be between 0 and 1000, got {0}")]
    RatioOutOfRange(f64),
}

/// Settings for a [`RetryBudget`]; see its `# Default`.
#[derive(Debug, Clone)]
pub struct RetryBudgetBuilder {
    ttl: Duration,
    min_per_sec: u32,
    retry_ratio: f64,
    clock: Option<SharedClock>,
}

impl RetryBudgetBuilder {
    /// How long a deposit counts.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Retries allowed per second whatever the traffic.
    pub fn min_per_sec(mut self, n: u32) -> Self {
        self.min_per_sec = n;
        self
    }

    /// Retries allowed per call (0.2: one retry per five calls).
    pub fn retry_ratio(mut self, ratio: f64) -> Self {
        self.retry_ratio = ratio;
        self
    }

    /// The clock for the window (default: the system clock).
    pub fn clock(mut self, clock: impl crate::Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<RetryBudget, InvalidRetryBudget> {
        if self.ttl < Duration::from_millis(10) || self.ttl > Duration::from_secs(3600) {
            return Err(InvalidRetryBudget::TtlOutOfRange(self.ttl));
        }
        if !(0.0..=1000.0).contains(&self.retry_ratio) {
            return Err(InvalidRetryBudget::RatioOutOfRange(self.retry_ratio));
        }
        let (deposit, withdraw) = if self.retry_ratio == 0.0 {
            (0, 1)
        } else {
            (DEPOSIT, ((DEPOSIT as f64 / self.retry_ratio) as i64).max(1))
        };
        let reserve = (self.min_per_sec as f64 * self.ttl.as_secs_f64() * withdraw as f64) as i64;
        let inner = BudgetInner {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            width_nanos: (duration_to_nanos(self.ttl) / BUCKETS as u64).max(1),
            deposit,
            withdraw,
            reserve,
            clock: self.clock.unwrap_or_else(SystemClock::shared),
        };
        Ok(RetryBudget { inner: Arc::new(inner) })
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryBudget {
    /// The default budget (see `# Default`).
    pub fn new() -> Self {
        Self::builder().build().expect("default retry budget settings are valid")
    }

    /// Settings for a budget.
    pub fn builder() -> RetryBudgetBuilder {
        RetryBudgetBuilder { ttl: Duration::from_secs(10), min_per_sec: 10, retry_ratio: 0.2, clock: None }
    }

    /// Records a call.
    pub fn deposit(&self) {
        if self.inner.deposit != 0 {
            self.inner.add(self.inner.epoch(), self.inner.deposit);
        }
    }

    /// Takes one retry from the budget; `false` when the budget is spent.
    pub fn withdraw(&self) -> bool {
        let epoch = self.inner.epoch();
        if self.inner.balance(epoch) < self.inner.withdraw {
            return false;
        }
        self.inner.add(epoch, -self.inner.withdraw);
        true
    }

    /// How many retries the budget would allow right now.
    pub fn available_retries(&self) -> u64 {
        let b = self.inner.balance(self.inner.epoch());
        (b.max(0) / self.inner.withdraw) as u64
    }
}

fn pack(epoch: u32, balance: i32) -> u64 {
    ((epoch as u64) << 32) | balance as u32 as u64
}

fn unpack(word: u64) -> (u32, i32) {
    ((word >> 32) as u32, word as u32 as i32)
}

impl BudgetInner {
    fn epoch(&self) -> u32 {
        (self.clock.now_nanos() / self.width_nanos) as u32
    }

    /// Reserve plus the balances of the buckets still inside the window.
    fn balance(&self, epoch: u32) -> i64 {
        let live = self
            .buckets
            .iter()
            .map(|b| unpack(b.load(Ordering::Relaxed)))
            .filter(|(e, _)| epoch.wrapping_sub(*e) < BUCKETS);
        self.reserve.saturating_add(live.map(|(_, bal)| bal as i64).sum())
    }

    /// Adds `delta` to the current bucket, restarting it if it holds an expired epoch.
    fn add(&self, epoch: u32, delta: i64) {
        let slot = &self.buckets[(epoch % BUCKETS) as usize];
        let step = |word: u64| {
            let (e, bal) = unpack(word);
            let base = if e == epoch { bal as i64 } else { 0 };
            let next = (base + delta).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
            Some(pack(epoch, next))
        };
        // The closure always returns Some, so this never fails.
        let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    #[test]
    fn pack_round_trips_negative_balances() {
        assert_eq!(unpack(pack(7, -5000)), (7, -5000));
        assert_eq!(unpack(pack(u32::MAX, i32::MIN)), (u32::MAX, i32::MIN));
    }

    #[test]
    fn rejects_bad_settings() {
        assert!(RetryBudget::builder().ttl(Duration::from_millis(1)).build().is_err());
        assert!(RetryBudget::builder().retry_ratio(-0.1).build().is_err());
        assert!(RetryBudget::builder().retry_ratio(f64::NAN).build().is_err());
    }

    #[test]
    fn minimum_per_second_refills_after_ttl() {
        let clock = ManualClock::new();
        let budget = RetryBudget::builder()
            .ttl(Duration::from_secs(1))
            .min_per_sec(3)
            .retry_ratio(0.0)
            .clock(clock.clone())
            .build()
            .unwrap();
        assert_eq!(budget.available_retries(), 3);
        assert!((0..3).all(|_| budget.withdraw()));
        assert!(!budget.withdraw());
        clock.advance(Duration::from_secs(1));
        assert_eq!(budget.available_retries(), 3);
    }
}
