use crate::support::*;
use elf_resilience_core::{CircuitState, ManualClock};
use std::time::{Duration, SystemTime};

#[test]
fn stats_count_every_kind_of_call() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 3);
    let _ = ok(&cb);
    let _ = ok(&cb);
    let _ = ok(&cb);
    for _ in 0..3 {
        let _ = fail(&cb);
    }
    let _ = ok(&cb);
    let _ = ok(&cb);
    let s = cb.stats();
    assert_eq!(s.name, "test");
    assert_eq!(s.state, CircuitState::Open);
    assert_eq!((s.total_calls, s.successful_calls, s.failed_calls, s.rejected_calls), (8, 3, 3, 2));
    assert_eq!(s.success_rate, 50.0);
    assert_eq!(s.consecutive_failures, 0, "an open breaker has no running count");
}

#[test]
fn time_is_booked_per_state() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    clock.advance(secs(7));
    let _ = fail(&cb); // closed for 7 s
    clock.advance(secs(10));
    let _ = ok(&cb); // open for 10 s, half-open for 0 s
    clock.advance(secs(2));
    let s = cb.stats();
    assert_eq!(s.time_in_states.closed, secs(9));
    assert_eq!(s.time_in_states.open, secs(10));
    assert_eq!(s.time_in_states.half_open, Duration::ZERO);
    assert_eq!(s.time_in_state, secs(2));
    assert_eq!(s.last_transition_at, secs(17));
    let wall_start = SystemTime::UNIX_EPOCH + secs(1_700_000_000);
    assert_eq!(s.last_transition_wall, wall_start + secs(17));
    assert_eq!(s.transitions, 3);
}

#[test]
fn stats_serialize_with_seconds() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    let _ = fail(&cb);
    clock.advance(Duration::from_millis(1500));
    let json = serde_json::to_value(cb.stats()).unwrap();
    assert_eq!(json["name"], "test");
    assert_eq!(json["state"], "open");
    assert_eq!(json["time_in_state"], 1.5);
    assert_eq!(json["failed_calls"], 1);
    assert_eq!(json["time_in_states"]["open"], 1.5);
    assert_eq!(json["last_transition_wall"], 1_700_000_000.0);
}
