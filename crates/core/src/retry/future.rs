//! Async retries: [`Retry::call_async`] and the [`AsyncSleeper`] it waits with.

use std::future::Future;
use std::time::Duration;

use super::run::{CallClock, Flow};
use super::{ResultPredicate, Retry, RetryError, RetryHintSource, RetryNotify, RetryPredicate};

/// Waits between async attempts. Any `Fn(Duration) -> impl Future<Output = ()>` is one; the
/// default uses `tokio::time::sleep`, so tests under paused time never really wait.
pub trait AsyncSleeper {
    /// The future that completes after the wait.
    type Sleep: Future<Output = ()>;

    /// A future that completes after `d`.
    fn sleep(&self, d: Duration) -> Self::Sleep;
}

impl<F, Fut> AsyncSleeper for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    type Sleep = Fut;

    fn sleep(&self, d: Duration) -> Fut {
        self(d)
    }
}

#[cfg(feature = "tokio")]
impl AsyncSleeper for super::DefaultSleeper {
    type Sleep = tokio::time::Sleep;

    fn sleep(&self, d: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(d)
    }
}

impl<B, P, R, N, H, S> Retry<B, P, R, N, H, S>
where
    B: Iterator<Item = Duration> + Clone,
    S: AsyncSleeper,
{
    /// Runs the future made by `op` until it succeeds or the policy gives up, sleeping
    /// asynchronously between attempts. Ends as [`call`](Self::call) does.
    ///
    /// ```
    /// use elf_resilience_core::{ExponentialBackoff, Retry};
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let policy = ExponentialBackoff::builder().with_max_retries(5).with_base_delay(Duration::from_millis(500))
    ///     .with_multiplier(3.0).with_max_delay(Duration::from_secs(30)).with_jitter(true.into());
    /// let retry = Retry::new(policy.build().unwrap());
    /// let mut calls = 0;
    /// let reply = retry.call_async(|| { calls += 1; let n = calls; async move {
    ///     if n < 3 { Err("busy") } else { Ok("fetched") }
    /// }}).await;
    /// assert_eq!(reply, Ok("fetched"));
    /// # }
    /// ```
    pub async fn call_async<T, E, F, Fut>(&self, mut op: F) -> Result<T, RetryError<E, R::Rejected>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        P: RetryPredicate<E>,
        R: ResultPredicate<T>,
        N: RetryNotify<E>,
        H: RetryHintSource<E>,
    {
        let mut run = self.begin(|| self.async_clock());
        loop {
            let outcome = op().await;
            match self.settle(&mut run, outcome) {
                Flow::Done(result) => return result,
                Flow::Wait(d) => self.sleeper.sleep(d).await,
            }
        }
    }

    /// Waits `d` with the policy's async sleeper.
    #[cfg(feature = "tokio")]
    pub(crate) fn sleep_async(&self, d: Duration) -> S::Sleep {
        self.sleeper.sleep(d)
    }

    /// The clock an async call measures `max_elapsed` with.
    pub(crate) fn async_clock(&self) -> CallClock<'_> {
        match &self.settings.clock {
            Some(clock) => CallClock::Borrowed(&**clock),
            #[cfg(feature = "tokio")]
            None => CallClock::Tokio(crate::clock::TokioClock::new()),
            #[cfg(not(feature = "tokio"))]
            None => CallClock::Borrowed(&crate::clock::SystemClock),
        }
    }
}
