//! The bare call, the clock-read floor, rate limiters, retries and the pipeline.

use crate::{measure, op};
use backon::{BlockingRetryable, ExponentialBuilder};
use elf_resilience_bench::{QuantaClock, poll_once};
use elf_resilience_core::{
    Attempt, Bulkhead, CircuitBreaker, Clock, Context, ExponentialBackoff, FallbackProtocol, FixedDelay,
    Pipeline, Quota, RateLimiter, ResourceType, Retry, SystemClock,
};
use governor::clock::QuantaClock as GovQuanta;
use std::hint::black_box;
use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

pub(crate) fn bare_call(n: u64) {
    measure(n, op);
}

pub(crate) fn system_clock_now(n: u64) {
    measure(n, || black_box(SystemClock).now_nanos());
}

fn elf_limiter(quota: Quota) -> RateLimiter<QuantaClock> {
    RateLimiter::with_clock(quota, QuantaClock::default()).expect("valid quota")
}

fn governor_limiter(quota: governor::Quota) -> governor::DefaultDirectRateLimiter {
    governor::RateLimiter::direct_with_clock(quota, GovQuanta::default())
}

pub(crate) fn allowed_elf(n: u64) {
    let rl = elf_limiter(Quota::per_second(NonZeroU32::MAX));
    measure(n, || rl.check());
}

pub(crate) fn allowed_governor(n: u64) {
    let rl = governor_limiter(governor::Quota::per_second(NonZeroU32::MAX));
    measure(n, || rl.check());
}

pub(crate) fn denied_elf(n: u64) {
    let rl = elf_limiter(Quota::per_hour(NonZeroU32::MIN));
    assert!(rl.check().is_ok() && rl.check().is_err());
    measure(n, || rl.check());
}

pub(crate) fn denied_governor(n: u64) {
    let rl = governor_limiter(governor::Quota::per_hour(NonZeroU32::MIN));
    assert!(rl.check().is_ok() && rl.check().is_err());
    measure(n, || rl.check());
}

pub(crate) fn retry_elf(n: u64) {
    let retry = Retry::new(ExponentialBackoff::new().with_max_retries(3));
    measure(n, || retry.call(op));
}

pub(crate) fn retry_backon(n: u64) {
    let builder = ExponentialBuilder::default().with_max_times(3);
    measure(n, || op.retry(builder).call());
}

async fn bare() -> Result<u64, String> {
    op().map_err(|()| String::new())
}

async fn attempt(_: Attempt) -> Result<u64, String> {
    bare().await
}

/// The five layers of `benches/pipeline.rs`, all passing.
fn full_pipeline() -> Pipeline<String> {
    Pipeline::builder()
        .circuit_breaker(CircuitBreaker::new("bench"))
        .retry(FixedDelay::new().with_max_retries(3).with_delay(Duration::from_millis(1)))
        .fallback(FallbackProtocol::default(), ResourceType::ApiQuota)
        .bulkhead(Bulkhead::new(NonZeroUsize::new(64).expect("non-zero")))
        .timeout(Duration::from_secs(1))
        .build()
}

/// Runs `f` inside a current-thread runtime with time enabled; the futures are polled once
/// with a no-op waker, outside any task, so no cooperative budget applies.
fn on_runtime(f: impl FnOnce()) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let _entered = rt.enter();
    f();
}

pub(crate) fn pipeline_bare_op(n: u64) {
    on_runtime(|| measure(n, || poll_once(bare()).expect("ready")));
}

pub(crate) fn pipeline_full(n: u64) {
    on_runtime(|| {
        let full = full_pipeline();
        assert_eq!(full.layer_names().len(), 5, "every layer is in the pipeline");
        assert!(matches!(poll_once(full.call(Context::new(), attempt)), Some(Ok(1))));
        measure(n, || poll_once(full.call(Context::new(), attempt)).expect("ready"));
    });
}
