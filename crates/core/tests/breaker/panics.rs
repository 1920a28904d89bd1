use crate::support::*;
use elf_resilience_core::{CircuitState, ManualClock};
use std::panic::{AssertUnwindSafe, catch_unwind};

#[test]
fn panic_counts_as_failure_and_propagates() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 2);
    let caught = catch_unwind(AssertUnwindSafe(|| cb.call(|| -> Result<(), ApiError> { panic!("boom") })));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    let stats = cb.stats();
    assert_eq!((stats.failed_calls, stats.consecutive_failures), (1, 1));
    let _ = catch_unwind(AssertUnwindSafe(|| cb.call(|| -> Result<(), ApiError> { panic!("again") })));
    assert_eq!(cb.state(), CircuitState::Open);
}

#[test]
fn panicking_probe_reopens_and_frees_its_slot() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    let _ = fail(&cb);
    clock.advance(secs(10));
    let _ = catch_unwind(AssertUnwindSafe(|| cb.call(|| -> Result<(), ApiError> { panic!("probe") })));
    assert_eq!(cb.state(), CircuitState::Open);
    clock.advance(secs(10));
    assert_eq!(ok(&cb).unwrap(), 1);
    assert_eq!(cb.state(), CircuitState::Closed);
}
