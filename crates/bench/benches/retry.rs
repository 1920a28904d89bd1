//! Retry whose first attempt succeeds: elf-resilience against backon, and the bare call.
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use backon::{BlockingRetryable, ExponentialBuilder};
use criterion::{Criterion, criterion_group, criterion_main};
use elf_resilience_bench::{config, ok};
use elf_resilience_core::{ExponentialBackoff, Retry};

fn first_ok(c: &mut Criterion) {
    let mut g = c.benchmark_group("retry_first_ok");
    g.bench_function("bare_call", |b| b.iter(ok));
    let retry = Retry::new(ExponentialBackoff::new().with_max_retries(3));
    g.bench_function("elf", |b| b.iter(|| retry.call(ok)));
    let builder = ExponentialBuilder::default().with_max_times(3);
    g.bench_function("backon", |b| b.iter(|| ok.retry(builder).call()));
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = first_ok }
criterion_main!(benches);
