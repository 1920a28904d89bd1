//! The bulkhead's call with a free slot and with none, beside the tokio `Semaphore` it is built
//! on: a `try_acquire`, the operation, the permit dropped. Every call runs the same
//! `#[inline(never)]` operation.
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use criterion::{Criterion, criterion_group, criterion_main};
use elf_resilience_bench::{config, ok};
use elf_resilience_core::{Bulkhead, BulkheadError};
use std::num::NonZeroUsize;
use tokio::sync::Semaphore;

#[inline(never)]
fn op() -> Result<u64, ()> {
    ok()
}

#[inline(never)]
fn elf_call(bulkhead: &Bulkhead) -> Result<u64, BulkheadError<()>> {
    bulkhead.call(op)
}

#[inline(never)]
fn semaphore_call(semaphore: &Semaphore) -> Option<Result<u64, ()>> {
    let _permit = semaphore.try_acquire().ok()?;
    Some(op())
}

fn free_slot(c: &mut Criterion) {
    let mut g = c.benchmark_group("bulkhead_free_slot");
    let bulkhead = Bulkhead::new(NonZeroUsize::new(64).expect("non-zero"));
    let semaphore = Semaphore::new(64);
    g.bench_function("bare_call", |b| b.iter(op));
    g.bench_function("elf_call", |b| b.iter(|| elf_call(&bulkhead)));
    g.bench_function("tokio_semaphore", |b| b.iter(|| semaphore_call(&semaphore)));
    g.finish();
}

fn full(c: &mut Criterion) {
    let mut g = c.benchmark_group("bulkhead_full");
    let bulkhead = Bulkhead::new(NonZeroUsize::MIN);
    let _held = bulkhead.try_acquire().expect("a free slot");
    let semaphore = Semaphore::new(1);
    let _taken = semaphore.try_acquire().expect("a free permit");
    g.bench_function("elf_shed", |b| b.iter(|| elf_call(&bulkhead)));
    g.bench_function("tokio_semaphore", |b| b.iter(|| semaphore_call(&semaphore)));
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = free_slot, full }
criterion_main!(benches);
