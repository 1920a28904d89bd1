//! Heap allocations per passing call through a pipeline, counted by an instrumented global
//! allocator (a binary of its own, run without the test harness, so nothing else allocates
//! while it counts).

use elf_resilience_bench::poll_once;
use elf_resilience_core::{
    Bulkhead, CircuitBreaker, Context, FallbackProtocol, FixedDelay, Pipeline, PipelineBuilder, ResourceType,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::future::ready;
use std::num::NonZeroUsize;
use std::time::Duration;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CALLS: usize = 10_000;

/// Allocations per call through `pipeline` of an operation ready at once, after one warm-up call.
fn per_call(pipeline: &Pipeline<String>) -> f64 {
    let call =
        || poll_once(pipeline.call(Context::new(), |_| ready(Ok::<_, String>(std::hint::black_box(1)))));
    assert_eq!(call().and_then(Result::ok), Some(1), "the call passes at its first poll");
    let region = Region::new(GLOBAL);
    for _ in 0..CALLS {
        drop(std::hint::black_box(call()));
    }
    region.change().allocations as f64 / CALLS as f64
}

fn build(add: impl FnOnce(PipelineBuilder<String>) -> PipelineBuilder<String>) -> Pipeline<String> {
    add(Pipeline::builder()).build()
}

// Run without the test harness (`harness = false`): the harness's own thread may allocate
// (its first wait for the test's result) while the test counts.
fn main() {
    // A timeout layer's timer needs tokio's time driver; the calls are polled by hand inside it.
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let _entered = rt.enter();
    a_passing_pipeline_call_allocates_nothing();
    println!("test a_passing_pipeline_call_allocates_nothing ... ok");
}

fn a_passing_pipeline_call_allocates_nothing() {
    let rows = [
        ("breaker", build(|b| b.circuit_breaker(CircuitBreaker::new("alloc")))),
        (
            "retry",
            build(|b| b.retry(FixedDelay::new().with_max_retries(3).with_delay(Duration::from_millis(1)))),
        ),
        ("fallback", build(|b| b.fallback(FallbackProtocol::default(), ResourceType::ApiQuota))),
        ("bulkhead", build(|b| b.bulkhead(Bulkhead::new(NonZeroUsize::new(64).unwrap())))),
        ("timeout", build(|b| b.timeout(Duration::from_secs(1)))),
        (
            "full pipeline",
            build(|b| {
                b.circuit_breaker(CircuitBreaker::new("alloc-full"))
                    .retry(FixedDelay::new().with_max_retries(3).with_delay(Duration::from_millis(1)))
                    .fallback(FallbackProtocol::default(), ResourceType::ApiQuota)
                    .bulkhead(Bulkhead::new(NonZeroUsize::new(64).unwrap()))
                    .timeout(Duration::from_secs(1))
            }),
        ),
    ];
    let counts: Vec<_> = rows.iter().map(|(name, p)| (*name, per_call(p))).collect();
    for (name, n) in &counts {
        println!("pipeline {name:24} {n:.2} allocations per call");
    }
    for (name, n) in counts {
        assert_eq!(n, 0.0, "a passing call through a pipeline with {name} allocates");
    }
    // In the same test: the counter is global, and another test would allocate while it counts.
    let six = per_call(&six_layers());
    println!("pipeline {:24} {six:.2} allocations per call", "six layers");
    assert_eq!(six, 0.0, "up to six layers nest unboxed");
}

/// The full pipeline with a second bulkhead: six layers, the most that nest unboxed.
fn six_layers() -> Pipeline<String> {
    build(|b| {
        b.circuit_breaker(CircuitBreaker::new("alloc-nested"))
            .retry(FixedDelay::new().with_max_retries(3).with_delay(Duration::from_millis(1)))
            .fallback(FallbackProtocol::default(), ResourceType::ApiQuota)
            .bulkhead(Bulkhead::new(NonZeroUsize::new(64).unwrap()))
            .bulkhead(Bulkhead::new(NonZeroUsize::new(64).unwrap()))
            .timeout(Duration::from_secs(1))
    })
}
