use crate::support::*;
use elf_resilience_core::{CircuitState, ManualClock};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn trip_and_reset() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 5);
    cb.trip();
    assert_eq!(cb.state(), CircuitState::Open);
    assert_eq!(ok(&cb).unwrap_err().as_open().unwrap().retry_after, Some(secs(10)));
    cb.reset();
    assert_eq!(ok(&cb).unwrap(), 1);
}

#[test]
fn force_open_rejects_until_reset_even_after_timeout() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 5);
    cb.force_open();
    clock.advance(secs(3600));
    let err = ok(&cb).unwrap_err();
    let open = err.as_open().unwrap();
    assert_eq!((open.state, open.retry_after), (CircuitState::ForcedOpen, None));
    assert!(err.to_string().contains("Circuit breaker 'test' is OPEN (forced open until reset)"));
    cb.reset();
    assert!(ok(&cb).is_ok());
}

#[test]
fn disabled_passes_everything_and_never_trips() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    cb.disable();
    for _ in 0..20 {
        assert!(fail(&cb).unwrap_err().is_inner());
    }
    assert_eq!(cb.state(), CircuitState::Disabled);
    assert_eq!(cb.stats().failed_calls, 20);
    cb.reset();
    let _ = fail(&cb);
    assert_eq!(cb.state(), CircuitState::Open);
}

#[test]
fn open_for_follows_retry_after_and_never_shortens() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 5);
    cb.open_for(secs(120));
    cb.open_for(secs(30));
    assert_eq!(ok(&cb).unwrap_err().as_open().unwrap().retry_after, Some(secs(120)));
    clock.advance(Duration::from_millis(119_500));
    assert_eq!(ok(&cb).unwrap_err().as_open().unwrap().retry_after, Some(Duration::from_millis(500)));
    clock.advance(Duration::from_millis(500));
    assert!(ok(&cb).is_ok());
    assert_eq!(cb.state(), CircuitState::Closed);
}

#[test]
fn listeners_see_every_transition_in_order() {
    let clock = ManualClock::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let cb = builder(&clock)
        .failure_threshold(1)
        .recovery_timeout(secs(5))
        .on_state_change(move |from, to| log.lock().unwrap().push((from, to)))
        .build()
        .unwrap();
    let _ = fail(&cb);
    clock.advance(secs(5));
    let _ = ok(&cb);
    cb.force_open();
    cb.disable();
    cb.reset();
    cb.reset(); // closed to closed is not a transition
    use CircuitState::*;
    let expected = [
        (Closed, Open),
        (Open, HalfOpen),
        (HalfOpen, Closed),
        (Closed, ForcedOpen),
        (ForcedOpen, Disabled),
        (Disabled, Closed),
    ];
    assert_eq!(*seen.lock().unwrap(), expected);
    assert_eq!(cb.stats().transitions, 6);
}

#[test]
fn listener_may_call_back_into_the_breaker() {
    let clock = ManualClock::new();
    let slot: Arc<Mutex<Option<elf_resilience_core::CircuitBreaker>>> = Arc::default();
    let handle = slot.clone();
    let cb = builder(&clock)
        .failure_threshold(1)
        .on_state_change(move |_, to| {
            if to == CircuitState::Open
                && let Some(cb) = handle.lock().unwrap().as_ref()
            {
                cb.force_open();
            }
        })
        .build()
        .unwrap();
    *slot.lock().unwrap() = Some(cb.clone());
    let _ = fail(&cb);
    assert_eq!(cb.state(), CircuitState::ForcedOpen);
    slot.lock().unwrap().take();
}
