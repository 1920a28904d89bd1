//! Blocking retries: [`Retry::call`] and the [`Sleeper`] it waits with.

use std::time::Duration;

use super::run::{CallClock, Flow};
use super::{
    DefaultSleeper, ResultPredicate, Retry, RetryError, RetryHintSource, RetryNotify, RetryPredicate,
};
use crate::clock::SystemClock;

/// Waits between blocking attempts. Any `Fn(Duration)` is a sleeper, so tests can record
/// waits or advance a [`ManualClock`](crate::ManualClock) instead of sleeping.
///
/// ```
/// use elf_resilience_core::{FixedDelay, Retry};
/// use std::sync::Mutex;
/// use std::time::Duration;
///
/// let waits = Mutex::new(Vec::new());
/// let retry = Retry::new(FixedDelay::new().with_max_retries(2)).sleeper(|d| waits.lock().unwrap().push(d));
/// let _ = retry.call(|| Err::<(), _>("down"));
/// assert_eq!(*waits.lock().unwrap(), [Duration::from_secs(1); 2]);
/// ```
pub trait Sleeper {
    /// Blocks the current thread for `d`.
    fn sleep(&self, d: Duration);
}

impl<F: Fn(Duration)> Sleeper for F {
    fn sleep(&self, d: Duration) {
        self(d)
    }
}

impl Sleeper for DefaultSleeper {
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

impl<B, P, R, N, H, S> Retry<B, P, R, N, H, S>
where
    B: Iterator<Item = Duration> + Clone,
    S: Sleeper,
{
    /// Runs `op` until it succeeds or the policy gives up, blocking between attempts.
    ///
    /// Returns the first accepted value, or a [`RetryError`] with the number of attempts, why
    /// retrying stopped, and the last error (or the last value
    /// [`retry_on_result`](Self::retry_on_result) rejected).
    pub fn call<T, E, F>(&self, mut op: F) -> Result<T, RetryError<E, R::Rejected>>
    where
        F: FnMut() -> Result<T, E>,
        P: RetryPredicate<E>,
        R: ResultPredicate<T>,
        N: RetryNotify<E>,
        H: RetryHintSource<E>,
    {
        let mut run =
            self.begin(|| CallClock::Borrowed(self.settings.clock.as_deref().unwrap_or(&SystemClock)));
        loop {
            match self.settle(&mut run, op()) {
                Flow::Done(result) => return result,
                Flow::Wait(d) => self.sleeper.sleep(d),
            }
        }
    }
}
