//! Heap allocations per call, ours (asserted zero) and the peers' (printed), counted by an
//! instrumented global allocator. One test, run without the test harness, so nothing else
//! allocates while it counts.

use backon::{BlockingRetryable, ExponentialBuilder};
use elf_resilience_bench::call_once;
use elf_resilience_core::{
    Bulkhead, BulkheadLayer, CircuitBreaker, CircuitBreakerLayer, ExponentialBackoff, Quota, RateLimitLayer,
    RateLimiter, Retry,
};
use failsafe::CircuitBreaker as _;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::future::ready;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use tower::{Layer, service_fn};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CALLS: usize = 10_000;

/// Allocations per call of `op`, after one warm-up call.
fn per_call<T>(mut op: impl FnMut() -> T) -> f64 {
    drop(std::hint::black_box(op()));
    let region = Region::new(GLOBAL);
    for _ in 0..CALLS {
        drop(std::hint::black_box(op()));
    }
    region.change().allocations as f64 / CALLS as f64
}

fn ok() -> Result<u64, ()> {
    Ok(std::hint::black_box(1))
}

fn ours() -> Vec<(&'static str, f64)> {
    let cb = CircuitBreaker::builder().name("alloc").build().unwrap();
    let open = CircuitBreaker::builder().name("alloc-open").build().unwrap();
    open.trip();
    let limiter = RateLimiter::new(Quota::per_second(NonZeroU32::MAX)).unwrap();
    let denied = RateLimiter::new(Quota::per_hour(NonZeroU32::MIN)).unwrap();
    let retry = Retry::new(ExponentialBackoff::new().with_max_retries(3));
    let bulkhead = Bulkhead::new(NonZeroUsize::new(1).unwrap());
    let full = Bulkhead::new(NonZeroUsize::new(1).unwrap());
    let _held = full.try_acquire().unwrap();
    let echo = service_fn(|x: u64| ready(Ok::<_, ()>(x)));
    let mut cb_svc = CircuitBreakerLayer::new(cb.clone()).layer(echo);
    let mut bh_svc = BulkheadLayer::new(bulkhead.clone()).layer(echo);
    let mut rl_svc =
        RateLimitLayer::new(Arc::new(RateLimiter::new(Quota::per_second(NonZeroU32::MAX)).unwrap()))
            .layer(echo);
    vec![
        ("elf breaker closed call", per_call(|| cb.call(ok))),
        ("elf breaker open rejection", per_call(|| open.call(ok))),
        ("elf rate limiter allowed", per_call(|| limiter.check())),
        ("elf rate limiter denied", per_call(|| denied.check())),
        ("elf retry first ok", per_call(|| retry.call(ok))),
        ("elf bulkhead call", per_call(|| bulkhead.call(ok))),
        ("elf bulkhead shed", per_call(|| full.call(ok))),
        ("elf tower breaker layer", per_call(|| call_once(&mut cb_svc, 1))),
        ("elf tower bulkhead layer", per_call(|| call_once(&mut bh_svc, 1))),
        ("elf tower rate limit layer", per_call(|| call_once(&mut rl_svc, 1))),
    ]
}

fn peers() -> Vec<(&'static str, f64)> {
    let fs = failsafe::Config::new().build();
    let rc = recloser::Recloser::default();
    let gov = governor::RateLimiter::direct(governor::Quota::per_second(NonZeroU32::MAX));
    let builder = ExponentialBuilder::default().with_max_times(3);
    let echo = service_fn(|x: u64| ready(Ok::<_, ()>(x)));
    let layer = tower_resilience_circuitbreaker::CircuitBreakerLayer::builder().build().unwrap();
    let mut tr = layer.layer(echo);
    vec![
        ("failsafe closed call", per_call(|| fs.call(ok))),
        ("recloser closed call", per_call(|| rc.call(ok))),
        ("governor allowed", per_call(|| gov.check())),
        ("backon first ok", per_call(|| ok.retry(builder).call())),
        ("tower-resilience breaker layer", per_call(|| call_once(&mut tr, 1))),
    ]
}

// Run without the test harness (`harness = false`): the harness's own thread may allocate
// (its first wait for the test's result) while the test counts.
fn main() {
    our_hot_paths_allocate_nothing();
    println!("test our_hot_paths_allocate_nothing ... ok");
}

fn our_hot_paths_allocate_nothing() {
    let ours = ours();
    for (name, n) in ours.iter().chain(peers().iter()) {
        println!("{name:32} {n:.2} allocations per call");
    }
    for (name, n) in ours {
        assert_eq!(n, 0.0, "{name} allocates");
    }
}
