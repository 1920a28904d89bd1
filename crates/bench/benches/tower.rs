//! Tower breaker layers over a `service_fn` that is ready at once: the bare service,
//! elf-resilience's `CircuitBreakerLayer`, tower-resilience's, and our other layers.
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use criterion::{Criterion, criterion_group, criterion_main};
use elf_resilience_bench::{call_once, config};
use elf_resilience_core::{Bulkhead, BulkheadLayer, CircuitBreaker, RateLimitLayer, RateLimiter};
use std::future::{Ready, ready};
use std::hint::black_box;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use tower::{Layer, Service, service_fn};

fn echo() -> impl Service<u64, Response = u64, Error = (), Future = Ready<Result<u64, ()>>> + Clone + Send {
    service_fn(|x: u64| ready(Ok(x)))
}

fn breaker_layers(c: &mut Criterion) {
    let mut g = c.benchmark_group("tower_breaker_layer");
    let mut bare = echo();
    g.bench_function("bare_service_fn", |b| b.iter(|| call_once(&mut bare, black_box(1))));
    let cb = CircuitBreaker::builder().name("bench").build().expect("valid config");
    let mut elf = elf_resilience_core::CircuitBreakerLayer::new(cb).layer(echo());
    g.bench_function("elf", |b| b.iter(|| call_once(&mut elf, black_box(1))));
    let layer =
        tower_resilience_circuitbreaker::CircuitBreakerLayer::builder().build().expect("valid config");
    let mut theirs = layer.layer(echo());
    g.bench_function("tower_resilience", |b| b.iter(|| call_once(&mut theirs, black_box(1))));
    g.finish();
}

fn other_layers(c: &mut Criterion) {
    let mut g = c.benchmark_group("tower_other_layers");
    let mut bulkhead = BulkheadLayer::new(Bulkhead::new(NonZeroUsize::MAX)).layer(echo());
    g.bench_function("elf_bulkhead", |b| b.iter(|| call_once(&mut bulkhead, black_box(1))));
    let limiter = RateLimiter::builder().per_second(NonZeroU32::MAX).build().expect("valid quota");
    let mut limited = RateLimitLayer::new(Arc::new(limiter)).layer(echo());
    g.bench_function("elf_rate_limit", |b| b.iter(|| call_once(&mut limited, black_box(1))));
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = breaker_layers, other_layers }
criterion_main!(benches);
