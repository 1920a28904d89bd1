//! Floors: what the cheapest operations cost on this machine, to read the other groups against.
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use criterion::{Criterion, criterion_group, criterion_main};
use elf_resilience_bench::{config, ok};
use elf_resilience_core::{Clock, SystemClock};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

fn floors(c: &mut Criterion) {
    let mut g = c.benchmark_group("floors");
    let word = AtomicU64::new(0);
    g.bench_function("atomic_load", |b| b.iter(|| black_box(&word).load(Ordering::Acquire)));
    g.bench_function("fetch_add", |b| b.iter(|| black_box(&word).fetch_add(1, Ordering::Relaxed)));
    g.bench_function("instant_now", |b| b.iter(Instant::now));
    g.bench_function("system_clock_now", |b| b.iter(|| black_box(SystemClock).now_nanos()));
    let tsc = quanta::Clock::new();
    g.bench_function("quanta_raw", |b| b.iter(|| black_box(&tsc).raw()));
    g.bench_function("bare_call", |b| b.iter(ok));
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = floors }
criterion_main!(benches);
