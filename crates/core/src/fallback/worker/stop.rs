//! A request to stop, which the queue worker checks between deliveries and races against one.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A stop signal (any future) that remembers once it has fired, so it is never polled again.
pub(super) struct Stop<'a, F> {
    signal: Pin<&'a mut F>,
    fired: bool,
}

impl<'a, F: Future<Output = ()>> Stop<'a, F> {
    pub(super) fn new(signal: Pin<&'a mut F>) -> Self {
        Self { signal, fired: false }
    }

    /// Whether a stop was asked for, without waiting.
    pub(super) fn requested(&mut self) -> bool {
        if !self.fired {
            let mut cx = Context::from_waker(Waker::noop());
            self.fired = self.signal.as_mut().poll(&mut cx).is_ready();
        }
        self.fired
    }

    /// Completes once a stop is asked for (at once if it was).
    pub(super) async fn asked(&mut self) {
        if !self.fired {
            self.signal.as_mut().await;
            self.fired = true;
        }
    }

    /// Runs `work` to its end; once a stop is asked for, `work` gets `grace` more and is then
    /// dropped (cancelled), which gives `None`.
    pub(super) async fn finish_within<T>(
        &mut self,
        work: impl Future<Output = T>,
        grace: Duration,
    ) -> Option<T> {
        let mut work = pin!(work);
        let before_stop = poll_fn(|cx| {
            if let Poll::Ready(out) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            if self.fired || self.signal.as_mut().poll(cx).is_ready() {
                self.fired = true;
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        match before_stop {
            Some(out) => Some(out),
            None => tokio::time::timeout(grace, work).await.ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn work_gets_the_grace_once_a_stop_is_asked_for() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut signal = pin!(async move {
            let _ = rx.await;
        });
        let mut stop = Stop::new(signal.as_mut());
        assert!(!stop.requested());
        let quick = stop.finish_within(async { 1 }, Duration::ZERO).await;
        assert_eq!(quick, Some(1), "work that ends before any stop is not cut");
        tx.send(()).unwrap();
        let slow = tokio::time::sleep(Duration::from_secs(3));
        assert_eq!(stop.finish_within(slow, Duration::from_secs(5)).await, Some(()));
        let endless = std::future::pending::<()>();
        assert_eq!(stop.finish_within(endless, Duration::from_secs(5)).await, None, "cut after the grace");
        assert!(stop.requested());
        stop.asked().await;
    }
}
