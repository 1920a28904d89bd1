//! Running one check: cut at its timeout, a panic turned into a failure.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::time::Instant;

use super::{CheckOutcome, HealthCheck};

const TIMED_OUT: &str = "timed out after ";
const PANICKED: &str = "panicked: ";

/// Runs the check once; never panics, never outlives the check's timeout.
pub(crate) async fn execute(check: &HealthCheck) -> (CheckOutcome, Duration) {
    let start = Instant::now();
    let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| (check.check)())) {
        Ok(fut) => guarded(fut, check.timeout).await,
        Err(payload) => panicked(payload.as_ref()),
    };
    if outcome.message.starts_with(TIMED_OUT) || outcome.message.starts_with(PANICKED) {
        tracing::warn!(check = %check.name, message = %outcome.message, "health check run failed");
    }
    (outcome, start.elapsed())
}

async fn guarded(
    fut: futures_util::future::BoxFuture<'static, CheckOutcome>,
    timeout: Duration,
) -> CheckOutcome {
    match tokio::time::timeout(timeout, AssertUnwindSafe(fut).catch_unwind()).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(payload)) => panicked(payload.as_ref()),
        Err(_) => CheckOutcome::unhealthy(format!("{TIMED_OUT}{timeout:?}")),
    }
}

fn panicked(payload: &(dyn Any + Send)) -> CheckOutcome {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    CheckOutcome::unhealthy(format!("{PANICKED}{msg}"))
}
