//! Rate limiters side by side: an allowed check and a denied check, against governor.
//!
//! Each limiter runs on two clocks: the operating system's monotonic clock
//! (`std::time::Instant`), and the TSC clock (quanta) governor uses by default, so the algorithms
//! compare on one time source. `elf_shared_clock` is a limiter built with the default clock
//! (`SystemClock`, itself TSC-based). Every check is one call of an `#[inline(never)]` function
//! returning the limiter's own result, the same for both crates, so neither check is folded
//! into the benchmark loop.
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime};
use elf_resilience_bench::{QuantaClock, StdClock, config};
use elf_resilience_core::{Clock, Quota, RateLimited, RateLimiter};
use governor::clock::{MonotonicClock, QuantaClock as GovQuanta};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use std::num::NonZeroU32;

type Governor<G> =
    governor::RateLimiter<NotKeyed, InMemoryState, G, NoOpMiddleware<<G as governor::clock::Clock>::Instant>>;

#[inline(never)]
fn elf_check<C: Clock>(limiter: &RateLimiter<C>) -> Result<(), RateLimited> {
    limiter.check()
}

#[inline(never)]
fn governor_check<G: governor::clock::Clock>(
    limiter: &Governor<G>,
) -> Result<(), governor::NotUntil<G::Instant>> {
    limiter.check()
}

fn open_quota() -> (Quota, governor::Quota) {
    (Quota::per_second(NonZeroU32::MAX), governor::Quota::per_second(NonZeroU32::MAX))
}

fn closed_quota() -> (Quota, governor::Quota) {
    (Quota::per_hour(NonZeroU32::MIN), governor::Quota::per_hour(NonZeroU32::MIN))
}

fn run_pair<C, G>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    tag: &str,
    quotas: (Quota, governor::Quota),
    ours: C,
    gov: G,
) where
    C: Clock,
    G: governor::clock::Clock,
{
    let elf = RateLimiter::with_clock(quotas.0, ours).expect("valid quota");
    let gov: Governor<G> = governor::RateLimiter::direct_with_clock(quotas.1, gov);
    if quotas.0.burst_size() == NonZeroU32::MIN {
        assert!(elf.check().is_ok() && elf.check().is_err());
        assert!(gov.check().is_ok() && gov.check().is_err());
    }
    g.bench_function(format!("elf_{tag}"), |b| b.iter(|| elf_check(&elf)));
    g.bench_function(format!("governor_{tag}"), |b| b.iter(|| governor_check(&gov)));
}

fn allowed(c: &mut Criterion) {
    let mut g = c.benchmark_group("rate_limit_allowed");
    run_pair(&mut g, "std_clock", open_quota(), StdClock::default(), MonotonicClock);
    run_pair(&mut g, "quanta_clock", open_quota(), QuantaClock::default(), GovQuanta::default());
    let shared = RateLimiter::new(open_quota().0).expect("valid quota");
    g.bench_function("elf_shared_clock", |b| b.iter(|| elf_check(&shared)));
    g.finish();
}

fn denied(c: &mut Criterion) {
    let mut g = c.benchmark_group("rate_limit_denied");
    run_pair(&mut g, "std_clock", closed_quota(), StdClock::default(), MonotonicClock);
    run_pair(&mut g, "quanta_clock", closed_quota(), QuantaClock::default(), GovQuanta::default());
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = allowed, denied }
criterion_main!(benches);
