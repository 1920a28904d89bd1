//! A full pipeline (breaker, retry, fallback, bulkhead, timeout, all passing) around an async
//! operation that is ready at once, against the bare operation, on a current-thread runtime;
//! then the same with a non-empty context (a model and two tags, made per call), six layers (a
//! second bulkhead), a pipeline with no layers (the context and attempt every call makes),
//! each layer alone, and tokio's own `timeout` around the bare operation for comparison.
//!
//! Each sample runs its iterations inside one `block_on`, so the runtime's entry cost is not
//! counted per call.
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use criterion::{Criterion, criterion_group, criterion_main};
use elf_resilience_bench::config;
use elf_resilience_core::{
    Attempt, Bulkhead, CircuitBreaker, Context, FallbackProtocol, FixedDelay, Pipeline, PipelineBuilder,
    ResourceType,
};
use std::future::Future;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

async fn bare() -> Result<u64, String> {
    Ok(black_box(1))
}

async fn op(_: Attempt) -> Result<u64, String> {
    bare().await
}

/// Adds one layer.
type AddLayer = fn(PipelineBuilder<String>) -> PipelineBuilder<String>;

fn breaker(b: PipelineBuilder<String>) -> PipelineBuilder<String> {
    b.circuit_breaker(CircuitBreaker::new("bench"))
}

fn retry(b: PipelineBuilder<String>) -> PipelineBuilder<String> {
    b.retry(FixedDelay::new().with_max_retries(3).with_delay(Duration::from_millis(1)))
}

fn fallback(b: PipelineBuilder<String>) -> PipelineBuilder<String> {
    b.fallback(FallbackProtocol::default(), ResourceType::ApiQuota)
}

fn bulkhead(b: PipelineBuilder<String>) -> PipelineBuilder<String> {
    b.bulkhead(Bulkhead::new(NonZeroUsize::new(64).expect("non-zero")))
}

fn timeout(b: PipelineBuilder<String>) -> PipelineBuilder<String> {
    b.timeout(Duration::from_secs(1))
}

fn pipeline() -> PipelineBuilder<String> {
    timeout(bulkhead(fallback(retry(breaker(Pipeline::builder())))))
}

/// Times `iters` sequential awaits of `call()` inside one `block_on`.
fn timed<F: Future>(rt: &Runtime, iters: u64, call: impl Fn() -> F) -> Duration {
    rt.block_on(async {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(call().await);
        }
        t.elapsed()
    })
}

fn async_call(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let full = pipeline().build();
    assert_eq!(full.layer_names().len(), 5, "every layer is in the pipeline");
    let six = bulkhead(pipeline()).build();
    // A context as an agent platform sends it: a model and two tags.
    let ctx = || Context::new().model("gpt-4").tag("team", "search").tag("request", "r-1");
    let mut g = c.benchmark_group("pipeline_async_call");
    g.bench_function("bare_op", |b| b.iter_custom(|n| timed(&rt, n, || async { bare().await.ok() })));
    g.bench_function("full_pipeline", |b| {
        b.iter_custom(|n| timed(&rt, n, || async { full.call(Context::new(), op).await.ok() }));
    });
    g.bench_function("full_pipeline_context", |b| {
        b.iter_custom(|n| timed(&rt, n, || async { full.call(ctx(), op).await.ok() }));
    });
    g.bench_function("six_layers", |b| {
        b.iter_custom(|n| timed(&rt, n, || async { six.call(Context::new(), op).await.ok() }));
    });
    let empty = Pipeline::builder().build();
    g.bench_function("no_layers", |b| {
        b.iter_custom(|n| timed(&rt, n, || async { empty.call(Context::new(), op).await.ok() }));
    });
    let alone: [(&str, AddLayer); 5] = [
        ("breaker", breaker),
        ("retry", retry),
        ("fallback", fallback),
        ("bulkhead", bulkhead),
        ("timeout", timeout),
    ];
    for (name, add) in alone {
        let one = add(Pipeline::builder()).build();
        g.bench_function(format!("{name}_alone"), |b| {
            b.iter_custom(|n| timed(&rt, n, || async { one.call(Context::new(), op).await.ok() }));
        });
    }
    g.bench_function("tokio_timeout_bare_op", |b| {
        b.iter_custom(|n| {
            timed(&rt, n, || async { tokio::time::timeout(Duration::from_secs(1), bare()).await.ok() })
        });
    });
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = async_call }
criterion_main!(benches);
