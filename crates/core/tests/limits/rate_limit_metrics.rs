//! How the rate limiter publishes its denials to `elf_rate_limited_total`, seen through a local
//! debugging recorder: in batches, on demand and on drop, each denial once.

use elf_resilience_core::{ManualClock, Quota, RateLimiter};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use std::cell::Cell;
use std::num::NonZeroU32;

/// The `elf_rate_limited_total` counter of a debugging recorder. Each snapshot hands out (and
/// resets) what was added since the last one, so the running total is kept here.
struct Published {
    snapshotter: Snapshotter,
    total: Cell<u64>,
}

impl Published {
    fn of(recorder: &DebuggingRecorder) -> Self {
        Self { snapshotter: recorder.snapshotter(), total: Cell::new(0) }
    }

    fn get(&self) -> u64 {
        let added: u64 = self
            .snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, ..)| key.key().name() == "elf_rate_limited_total")
            .map(|(.., value)| match value {
                DebugValue::Counter(n) => n,
                other => panic!("elf_rate_limited_total is not a counter: {other:?}"),
            })
            .sum();
        self.total.set(self.total.get() + added);
        self.total.get()
    }
}

/// A limiter that allows one call per hour, its cell already taken.
fn closed() -> RateLimiter<ManualClock> {
    let limiter = RateLimiter::with_clock(Quota::per_hour(NonZeroU32::MIN), ManualClock::new()).unwrap();
    limiter.check().unwrap();
    limiter
}

/// Denials a thread counts between two batches (`RateLimiter::publish_metrics`).
const PUBLISH_EVERY: u64 = 1024;

fn deny(limiter: &RateLimiter<ManualClock>, n: u64) {
    for _ in 0..n {
        assert!(limiter.check().is_err());
    }
}

#[test]
fn denials_are_published_in_batches_on_demand_and_on_drop() {
    let recorder = DebuggingRecorder::new();
    let published = Published::of(&recorder);
    metrics::with_local_recorder(&recorder, || {
        let limiter = closed();
        deny(&limiter, 1023);
        assert_eq!(published.get(), 0, "1,023 denials stay on the limiter");
        deny(&limiter, 1);
        assert_eq!(published.get(), 1024, "the 1,024th denial publishes the batch");

        deny(&limiter, 5);
        assert_eq!(published.get(), 1024);
        limiter.publish_metrics();
        assert_eq!(published.get(), 1029, "publish_metrics adds the remainder");
        limiter.publish_metrics();
        assert_eq!(published.get(), 1029, "nothing is published twice");

        deny(&limiter, 1018);
        assert_eq!(published.get(), 1029, "the next batch comes at this thread's 2,048th denial");
        deny(&limiter, 1);
        assert_eq!(published.get(), 2048);

        deny(&limiter, 3);
        assert_eq!(limiter.denied_total(), 2051);
        drop(limiter);
        assert_eq!(published.get(), 2051, "drop publishes what is left");
    });
}

#[test]
fn check_n_denials_count_but_insufficient_capacity_does_not() {
    let recorder = DebuggingRecorder::new();
    let published = Published::of(&recorder);
    metrics::with_local_recorder(&recorder, || {
        let limiter = closed();
        assert!(limiter.check_n(NonZeroU32::MIN).is_err());
        assert!(limiter.check_n(NonZeroU32::new(2).unwrap()).is_err());
        assert_eq!(limiter.denied_total(), 1);
        drop(limiter);
    });
    assert_eq!(published.get(), 1);
}

#[test]
fn denials_on_several_threads_are_published_once_each() {
    const THREADS: u64 = 4;
    let recorder = DebuggingRecorder::new();
    let published = Published::of(&recorder);
    let limiter = closed();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| metrics::with_local_recorder(&recorder, || deny(&limiter, PUBLISH_EVERY)));
        }
    });
    let batched = published.get();
    // Each thread published at its 1,024th denial; a batch may miss another thread's latest.
    assert!((PUBLISH_EVERY..=THREADS * PUBLISH_EVERY).contains(&batched));
    assert_eq!(limiter.denied_total(), THREADS * PUBLISH_EVERY);
    metrics::with_local_recorder(&recorder, || drop(limiter));
    assert_eq!(published.get(), THREADS * PUBLISH_EVERY);
}
