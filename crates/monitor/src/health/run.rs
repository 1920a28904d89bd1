//! Running one check: cut at its timeout, a panic turned into a failure.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::task::Poll;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::time::Instant;

use super::{CheckOutcome, HealthCheck};

const TIMED_OUT: &str = "timed out after ";
const PANICKED: &str = "panicked: ";

/// Runs the check once; never panics, never outlives the check's timeout.
pub(crate) async fn execute(check: &HealthCheck) -> (CheckOutcome, Duration) {
    let start = Instant::now();
    let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| (check.check)())) {
        Ok(fut) => guarded(fut, start, check.timeout).await,
        Err(payload) => panicked(payload.as_ref()),
    };
    if outcome.message.starts_with(TIMED_OUT) || outcome.message.starts_with(PANICKED) {
        tracing::warn!(check = %check.name, message = %outcome.message, "health check run failed");
    }
    (outcome, start.elapsed())
}

/// Polls once before arming the timeout, so a check that answers at once costs no timer.
async fn guarded(fut: BoxFuture<'static, CheckOutcome>, start: Instant, timeout: Duration) -> CheckOutcome {
    let mut fut = AssertUnwindSafe(fut).catch_unwind();
    let first = std::future::poll_fn(|cx| Poll::Ready(fut.poll_unpin(cx))).await;
    let done = match first {
        Poll::Ready(done) => done,
        Poll::Pending => match tokio::time::timeout_at(start + timeout, fut).await {
            Ok(done) => done,
            Err(_) => return CheckOutcome::unhealthy(format!("{TIMED_OUT}{timeout:?}")),
        },
    };
    done.unwrap_or_else(|payload| panicked(payload.as_ref()))
}

fn panicked(payload: &(dyn Any + Send)) -> CheckOutcome {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    CheckOutcome::unhealthy(format!("{PANICKED}{msg}"))
}
