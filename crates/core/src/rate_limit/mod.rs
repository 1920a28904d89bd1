//! A GCRA rate limiter whose whole state is one `AtomicU64`.
//!
//! The generic cell rate algorithm keeps a single number, the theoretical arrival time (TAT) of
//! the next cell. A check reads the clock, decides with a pure function, and publishes the new TAT
//! with one compare-and-swap: no lock, no allocation, no background task.
//!
//! ```
//! use elf_resilience_core::{ManualClock, RateLimiter};
//! use std::num::NonZeroU32;
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let limiter = RateLimiter::builder()
//!     .per_second(NonZeroU32::new(2).unwrap())
//!     .burst(NonZeroU32::new(2).unwrap())
//!     .clock(clock.shared())
//!     .build()?;
//! assert!(limiter.check().is_ok());
//! assert!(limiter.check().is_ok());
//! let denied = limiter.check().unwrap_err();
//! assert_eq!(denied.retry_after(), Duration::from_millis(500));
//! clock.advance(Duration::from_millis(500));
//! assert!(limiter.check().is_ok());
//! # Ok::<(), elf_resilience_core::RateLimitConfigError>(())
//! ```

mod builder;
mod denials;
mod error;
mod gcra;
#[cfg(feature = "tower")]
mod layer;
mod quota;
#[cfg(feature = "tokio")]
mod wait;

#[cfg(feature = "tower")]
pub use layer::{RateLimitLayer, RateLimitService, RateLimitServiceError};

pub use builder::RateLimiterBuilder;
pub use error::{RateLimitConfigError, RateLimitError, RateLimited};
pub use quota::Quota;

use crate::clock::{Clock, SharedClock, SystemClock};
use crate::sync::{AtomicU64, Ordering};
use denials::Denials;
use gcra::Gcra;
use std::num::NonZeroU32;

/// A rate limiter over one atomic word. Share it with an `Arc`.
///
/// The clock type defaults to [`SharedClock`]; a concrete [`Clock`] type avoids one indirect call.
#[derive(Debug)]
pub struct RateLimiter<C: Clock = SharedClock> {
    tat: AtomicU64,
    denials: Denials,
    gcra: Gcra,
    quota: Quota,
    clock: C,
}

impl RateLimiter {
    /// A builder for a limiter on the system clock unless told otherwise.
    pub fn builder() -> RateLimiterBuilder {
        RateLimiterBuilder::new()
    }

    /// A limiter for `quota` on the system clock.
    pub fn new(quota: Quota) -> Result<Self, RateLimitConfigError> {
        Self::with_clock(quota, SystemClock::shared())
    }
}

impl<C: Clock> RateLimiter<C> {
    /// A limiter for `quota` reading time from `clock`.
    pub fn with_clock(quota: Quota, clock: C) -> Result<Self, RateLimitConfigError> {
        Ok(Self { tat: AtomicU64::new(0), denials: Denials::default(), gcra: quota.gcra()?, quota, clock })
    }

    /// The configured quota.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Takes one cell, or says how long until one is free.
    #[inline]
    pub fn check(&self) -> Result<(), RateLimited> {
        match self.acquire(1) {
            Ok(()) => Ok(()),
            Err(wait) => Err(self.rejected(wait)),
        }
    }

    /// Denials by [`check`](Self::check) and [`check_n`](Self::check_n) since the limiter was
    /// built (exact once the denied calls have returned).
    ///
    /// ```
    /// use elf_resilience_core::{ManualClock, Quota, RateLimiter};
    /// use std::num::NonZeroU32;
    ///
    /// let quota = Quota::per_second(NonZeroU32::new(1).unwrap());
    /// let limiter = RateLimiter::with_clock(quota, ManualClock::new())?;
    /// assert!(limiter.check().is_ok());
    /// assert!(limiter.check().is_err());
    /// assert!(limiter.check().is_err());
    /// assert_eq!(limiter.denied_total(), 2);
    /// limiter.publish_metrics();
    /// # Ok::<(), elf_resilience_core::RateLimitConfigError>(())
    /// ```
    pub fn denied_total(&self) -> u64 {
        self.denials.total()
    }

    /// Adds the denials not yet published to the `elf_rate_limited_total` counter.
    ///
    /// A denial only counts on the limiter (on the denying thread's stripe, so a denial costs
    /// no locked instruction on most threads); the counter is brought up to date each time a
    /// stripe reaches a multiple of 1,024 denials (each of the first threads to count has a
    /// stripe of its own), on drop, and whenever this is called (e.g. before a scrape). Each
    /// denial is published once.
    pub fn publish_metrics(&self) {
        let unpublished = self.denials.take_unpublished();
        if unpublished > 0 {
            metrics::counter!("elf_rate_limited_total").increment(unpublished);
        }
    }

    #[inline]
    fn rejected(&self, wait_nanos: u64) -> RateLimited {
        if self.denials.add_one() {
            self.publish_batch();
        }
        RateLimited::from_nanos(wait_nanos)
    }

    #[cold]
    #[inline(never)]
    fn publish_batch(&self) {
        tracing::trace!(denied_total = self.denials.total(), "rate limited");
        self.publish_metrics();
    }

    /// Takes `n` cells at once, or says how long until they are free, or that they never will be.
    pub fn check_n(&self, n: NonZeroU32) -> Result<(), RateLimitError> {
        self.fits(n)?;
        self.acquire(n.get()).map_err(|w| self.rejected(w).into())
    }

    fn fits(&self, n: NonZeroU32) -> Result<(), RateLimitError> {
        let burst = self.quota.burst_size().get();
        if n.get() > burst {
            return Err(RateLimitError::InsufficientCapacity { requested: n.get(), burst });
        }
        Ok(())
    }

    #[inline]
    fn acquire(&self, n: u32) -> Result<(), u64> {
        let now = self.clock.now_nanos();
        let mut tat = self.tat.load(Ordering::Acquire);
        loop {
            let next = if n == 1 { self.gcra.decide_one(tat, now) } else { self.gcra.decide(tat, now, n) }?;
            match self.tat.compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(seen) => tat = seen,
            }
        }
    }
}

impl<C: Clock> Drop for RateLimiter<C> {
    fn drop(&mut self) {
        self.publish_metrics();
    }
}
