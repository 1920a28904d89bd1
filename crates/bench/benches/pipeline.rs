//! A full pipeline (breaker, retry, fallback, bulkhead, timeout, all passing) around an async
//! operation that is ready at once, against the bare operation, on a current-thread runtime.
//!
//! Each sample runs its iterations inside one `block_on`, so the runtime's entry cost is not
//! counted per call.

use criterion::{Criterion, criterion_group, criterion_main};
use elf_resilience_bench::config;
use elf_resilience_core::{
    Attempt, Bulkhead, CircuitBreaker, Context, FallbackProtocol, FixedDelay, Pipeline, ResourceType,
};
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

async fn bare() -> Result<u64, String> {
    Ok(black_box(1))
}

async fn op(_: Attempt) -> Result<u64, String> {
    bare().await
}

fn pipeline() -> Pipeline {
    Pipeline::builder()
        .circuit_breaker(CircuitBreaker::new("bench"))
        .retry(FixedDelay::new().with_max_retries(3).with_delay(Duration::from_millis(1)))
        .fallback(FallbackProtocol::default(), ResourceType::ApiQuota)
        .bulkhead(Bulkhead::new(NonZeroUsize::new(64).expect("non-zero")))
        .timeout(Duration::from_secs(1))
        .build()
}

fn async_call(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let full = pipeline();
    assert_eq!(full.layer_names().len(), 5, "every layer is in the pipeline");
    let mut g = c.benchmark_group("pipeline_async_call");
    g.bench_function("bare_op", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(bare().await.ok());
                }
                t.elapsed()
            })
        });
    });
    g.bench_function("full_pipeline", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(full.call(Context::new(), op).await.ok());
                }
                t.elapsed()
            })
        });
    });
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = async_call }
criterion_main!(benches);
