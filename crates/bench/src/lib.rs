//! Shared pieces of the benchmarks in `benches/`: one criterion configuration, a two-thread
//! contention driver, the bare call every group measures against, two clock adapters and a
//! no-op-waker poll.
//!
//! Criterion's `iter` already passes each routine's output through `black_box`; the routines
//! return their results rather than wrapping them in a second `black_box`, which would store
//! the result and reload it whole (a store-forwarding stall of more than 10 ns on some
//! machines, larger than the calls measured).
//!
//! Run them all with `cargo bench -p elf-resilience-bench`; `BENCHMARKS.md` at the repository
//! root records one run.

use criterion::Criterion;
use elf_resilience_core::Clock;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Barrier;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Short measurement times so the whole suite finishes in a few minutes.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args()
}

/// Runs `op` `iters` times on each of `threads` threads started together and returns the
/// slowest thread's time: per call, the latency under contention.
pub fn contended<F: Fn() + Sync>(iters: u64, threads: usize, op: &F) -> Duration {
    let start = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    let t = Instant::now();
                    for _ in 0..iters {
                        op();
                    }
                    t.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).max().unwrap_or_default()
    })
}

/// The operation every group's `bare_call` measures: a call that returns `Ok` of an opaque value.
#[inline]
#[expect(clippy::result_unit_err, reason = "the error type of the calls the peers' benchmarks make")]
pub fn ok() -> Result<u64, ()> {
    Ok(black_box(1))
}

/// The TSC-based clock governor uses by default, as an elf-resilience [`Clock`], to compare the
/// rate limiters' algorithms on the same time source. It reads raw ticks and scales only the
/// difference from its epoch, as governor's own quanta clock does.
#[derive(Debug, Clone)]
pub struct QuantaClock {
    clock: quanta::Clock,
    epoch: u64,
}

impl Default for QuantaClock {
    fn default() -> Self {
        let clock = quanta::Clock::new();
        let epoch = clock.raw();
        Self { clock, epoch }
    }
}

impl Clock for QuantaClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        self.clock.delta_as_nanos(self.epoch, self.clock.raw())
    }
}

/// The operating system's monotonic clock (`std::time::Instant`) as an elf-resilience
/// [`Clock`], to compare with governor's `MonotonicClock` on the same time source.
#[derive(Debug, Clone, Copy)]
pub struct StdClock {
    epoch: Instant,
}

impl Default for StdClock {
    fn default() -> Self {
        Self { epoch: Instant::now() }
    }
}

impl Clock for StdClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Polls `fut` once with a no-op waker; `None` if it is not ready.
#[inline]
pub fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Polls a tower service ready with a no-op waker, calls it and polls the response once.
#[inline]
pub fn call_once<S, Req>(svc: &mut S, req: Req) -> Option<Result<S::Response, S::Error>>
where
    S: tower_service::Service<Req>,
{
    let mut cx = Context::from_waker(Waker::noop());
    match svc.poll_ready(&mut cx) {
        Poll::Ready(Ok(())) => poll_once(svc.call(req)),
        Poll::Ready(Err(e)) => Some(Err(e)),
        Poll::Pending => None,
    }
}
