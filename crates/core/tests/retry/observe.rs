//! What a retry reports: metrics counters through a local recorder, and no allocation on the
//! first-try path or, with no recorder installed, on the retry path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use elf_resilience_core::{FixedDelay, Retry};
use metrics::{Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn the_allocation_counter_counts() {
    assert_eq!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 8]))), 1);
}

#[test]
fn first_try_success_does_not_allocate() {
    let retry = Retry::with_max_retries(3).sleeper(|_| {});
    let n = allocations_during(|| {
        for i in 0..10_000u64 {
            assert_eq!(retry.call(|| Ok::<_, ()>(i)), Ok(i));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn retry_path_does_not_allocate_without_a_recorder() {
    let retry = Retry::new(FixedDelay::new().with_max_retries(5)).sleeper(|_| {});
    let n = allocations_during(|| {
        for _ in 0..100 {
            assert_eq!(retry.call(|| Err::<(), _>(7u8)).unwrap_err().attempts(), 6);
        }
    });
    assert_eq!(n, 0);
}

#[derive(Default)]
struct Recorded(Mutex<HashMap<String, Arc<Count>>>);

#[derive(Default)]
struct Count(AtomicU64);

impl CounterFn for Count {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

impl Recorded {
    fn get(&self, name: &str) -> u64 {
        self.0.lock().unwrap().get(name).map_or(0, |c| c.0.load(Ordering::Relaxed))
    }
}

impl Recorder for Recorded {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        Counter::from_arc(self.0.lock().unwrap().entry(name).or_default().clone())
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[test]
fn counts_retries_and_give_ups() {
    let recorder = Recorded::default();
    metrics::with_local_recorder(&recorder, || {
        let retry = Retry::with_max_retries(2).sleeper(|_| {});
        let _ = retry.call(|| Err::<(), _>("down"));
        let _ = retry.retry_if(|_: &&str| false).call(|| Err::<(), _>("bad"));
    });
    assert_eq!(recorder.get("elf_retry_attempts_total{}"), 2);
    assert_eq!(recorder.get("elf_retry_giveups_total{reason=exhausted}"), 1);
    assert_eq!(recorder.get("elf_retry_giveups_total{reason=not_retryable}"), 1);
}

#[test]
fn a_rejected_value_counts_retries_and_a_give_up() {
    let recorder = Recorded::default();
    let err = metrics::with_local_recorder(&recorder, || {
        let retry = Retry::with_max_retries(2).retry_on_result(|v: &u8| *v == 0).sleeper(|_| {});
        retry.call(|| Ok::<u8, ()>(0)).unwrap_err()
    });
    assert_eq!((err.attempts(), err.rejected_value()), (3, Some(&0)));
    assert_eq!(recorder.get("elf_retry_attempts_total{}"), 2);
    assert_eq!(recorder.get("elf_retry_giveups_total{reason=exhausted}"), 1);
}

#[test]
fn a_rejected_value_does_not_allocate_without_a_recorder() {
    let retry =
        Retry::new(FixedDelay::new().with_max_retries(5)).retry_on_result(|v: &u8| *v == 0).sleeper(|_| {});
    let n = allocations_during(|| {
        for _ in 0..100 {
            assert_eq!(retry.call(|| Ok::<u8, ()>(0)).unwrap_err().attempts(), 6);
        }
    });
    assert_eq!(n, 0);
}
