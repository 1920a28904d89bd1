//! Circuit breakers side by side: a closed call (consecutive failures, a count window, a time
//! window with and without a slow-call check, beside the clock-read floor), an open
//! rejection, and closed calls on two contending threads. Every crate calls the same
//! out-of-line operation, [`op`].
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use criterion::{Criterion, criterion_group, criterion_main};
use elf_resilience_bench::{config, contended};
use elf_resilience_core::{CircuitBreaker, CircuitBreakerBuilder, Clock, SlidingWindow, SystemClock};
use failsafe::CircuitBreaker as _;
use std::hint::black_box;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);
const WINDOW: u32 = 100;

/// The operation every breaker guards, kept out of line so that no crate's call folds it away.
#[inline(never)]
#[expect(clippy::result_unit_err, reason = "the error type of the calls the peers' benchmarks make")]
pub fn op() -> Result<u64, ()> {
    Ok(black_box(1))
}

fn builder() -> CircuitBreakerBuilder {
    CircuitBreaker::builder().name("bench").recovery_timeout(HOUR)
}

fn ours() -> CircuitBreaker {
    builder().build().expect("valid config")
}

/// A count window of 100 calls judged from 10 on, at a failure rate of 50 %.
fn ours_count_window() -> CircuitBreaker {
    let b = builder().sliding_window(SlidingWindow::Count(WINDOW)).minimum_calls(10);
    b.failure_rate_threshold(50.0).build().expect("valid config")
}

/// A time window of a minute judged from 10 calls on, at a failure rate of 50 %.
fn ours_time_window(slow_check: bool) -> CircuitBreaker {
    let b = builder().sliding_window(SlidingWindow::Time(Duration::from_secs(60))).minimum_calls(10);
    let b = b.failure_rate_threshold(50.0);
    let b = if slow_check { b.slow_call_duration(HOUR).slow_call_rate_threshold(50.0) } else { b };
    b.build().expect("valid config")
}

/// Recloser's breaker with a ring of the last 100 calls in the closed state, opening at 50 %.
fn recloser_window() -> recloser::Recloser {
    recloser::Recloser::custom().error_rate(0.5).closed_len(WINDOW as usize).open_wait(HOUR).build()
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
    g.bench_function("bare_call", |b| b.iter(op));
    g.bench_function("elf", |b| b.iter(|| cb.call(op)));
    let fs = failsafe_breaker();
    g.bench_function("failsafe", |b| b.iter(|| fs.call(op)));
    let rc = recloser_breaker();
    g.bench_function("recloser", |b| b.iter(|| rc.call(op)));
    g.finish();
}

fn windows(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_closed_window");
    g.bench_function("bare_call", |b| b.iter(op));
    g.bench_function("clock_read", |b| b.iter(|| SystemClock.now_nanos()));
    let count = ours_count_window();
    g.bench_function("elf_count_100", |b| b.iter(|| count.call(op)));
    let time = ours_time_window(false);
    g.bench_function("elf_time_60s", |b| b.iter(|| time.call(op)));
    let slow = ours_time_window(true);
    g.bench_function("elf_time_60s_slow_check", |b| b.iter(|| slow.call(op)));
    let rc = recloser_window();
    g.bench_function("recloser_count_100", |b| b.iter(|| rc.call(op)));
    g.finish();
}

fn open(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_open");
    let cb = ours();
    cb.trip();
    assert!(cb.call(op).is_err());
    g.bench_function("elf", |b| b.iter(|| cb.call(op)));
    let fs = failsafe_breaker();
    while fs.is_call_permitted() {
        let _ = fs.call(|| Err::<(), _>(()));
    }
    g.bench_function("failsafe", |b| b.iter(|| fs.call(op)));
    let rc = recloser_breaker();
    while rc.call(|| Err::<(), _>(())).is_ok_or_inner() {}
    g.bench_function("recloser", |b| b.iter(|| rc.call(op)));
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
    g.bench_function("elf", |b| b.iter_custom(|n| contended(n, 2, &|| drop(black_box(cb.call(op))))));
    let fs = failsafe_breaker();
    g.bench_function("failsafe", |b| b.iter_custom(|n| contended(n, 2, &|| drop(black_box(fs.call(op))))));
    let rc = recloser_breaker();
    g.bench_function("recloser", |b| b.iter_custom(|n| contended(n, 2, &|| drop(black_box(rc.call(op))))));
    g.finish();
}

fn window_contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_closed_window_2_threads");
    let cb = ours_count_window();
    g.bench_function("elf_count_100", |b| {
        b.iter_custom(|n| contended(n, 2, &|| drop(black_box(cb.call(op)))))
    });
    let rc = recloser_window();
    g.bench_function("recloser_count_100", |b| {
        b.iter_custom(|n| contended(n, 2, &|| drop(black_box(rc.call(op)))))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = closed, windows, open, contention, window_contention
}
criterion_main!(benches);
