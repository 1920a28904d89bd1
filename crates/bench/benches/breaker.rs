//! Circuit breakers side by side: a closed call, an open rejection, a closed call on two
//! contending threads.

use criterion::{Criterion, criterion_group, criterion_main};
use elf_resilience_bench::{config, contended, ok};
use elf_resilience_core::CircuitBreaker;
use failsafe::CircuitBreaker as _;
use std::hint::black_box;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn ours() -> CircuitBreaker {
    CircuitBreaker::builder().name("bench").recovery_timeout(HOUR).build().expect("valid config")
}

fn failsafe_breaker() -> impl failsafe::CircuitBreaker {
    let policy = failsafe::failure_policy::consecutive_failures(5, failsafe::backoff::constant(HOUR));
    failsafe::Config::new().failure_policy(policy).build()
}

fn recloser_breaker() -> recloser::Recloser {
    recloser::Recloser::custom().error_rate(0.5).closed_len(10).open_wait(HOUR).build()
}

fn closed(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_closed");
    let cb = ours();
    g.bench_function("bare_call", |b| b.iter(ok));
    g.bench_function("elf", |b| b.iter(|| cb.call(ok)));
    let fs = failsafe_breaker();
    g.bench_function("failsafe", |b| b.iter(|| fs.call(ok)));
    let rc = recloser_breaker();
    g.bench_function("recloser", |b| b.iter(|| rc.call(ok)));
    g.finish();
}

fn open(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_open");
    let cb = ours();
    cb.trip();
    assert!(cb.call(ok).is_err());
    g.bench_function("elf", |b| b.iter(|| cb.call(ok)));
    let fs = failsafe_breaker();
    while fs.is_call_permitted() {
        let _ = fs.call(|| Err::<(), _>(()));
    }
    g.bench_function("failsafe", |b| b.iter(|| fs.call(ok)));
    let rc = recloser_breaker();
    while rc.call(|| Err::<(), _>(())).is_ok_or_inner() {}
    g.bench_function("recloser", |b| b.iter(|| rc.call(ok)));
    g.finish();
}

trait Rejected {
    fn is_ok_or_inner(&self) -> bool;
}

impl<T> Rejected for Result<T, recloser::Error<()>> {
    fn is_ok_or_inner(&self) -> bool {
        !matches!(self, Err(recloser::Error::Rejected))
    }
}

fn contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_closed_2_threads");
    let cb = ours();
    g.bench_function("elf", |b| b.iter_custom(|n| contended(n, 2, &|| drop(black_box(cb.call(ok))))));
    let fs = failsafe_breaker();
    g.bench_function("failsafe", |b| b.iter_custom(|n| contended(n, 2, &|| drop(black_box(fs.call(ok))))));
    let rc = recloser_breaker();
    g.bench_function("recloser", |b| b.iter_custom(|n| contended(n, 2, &|| drop(black_box(rc.call(ok))))));
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = closed, open, contention }
criterion_main!(benches);
