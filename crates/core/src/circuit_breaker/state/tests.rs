//! The pure transitions, event by event.

use super::*;

const LIM: Limits = Limits {
    failure_threshold: 2,
    recovery_nanos: 100,
    half_open_permits: 2,
    half_open_successes: 2,
    half_open_max_nanos: None,
};

fn fin(permit: State, outcome: Outcome) -> Event {
    Event::Finish { permit, outcome, rate_exceeded: false }
}

#[test]
fn pack_round_trips() {
    let states = [
        State::Closed { stay: STAY_MASK, failures: MAX_COUNT },
        State::Open { until: MAX_DEADLINE },
        State::Open { until: 0 },
        State::HalfOpen { stay: 7, admitted: 3, succeeded: MAX_COUNT },
        State::ForcedOpen { stay: 1 },
        State::Disabled { stay: 2 },
    ];
    for s in states {
        assert_eq!(State::unpack(s.pack()), s);
    }
}

#[test]
fn only_a_closed_state_with_no_failures_is_clean() {
    assert!(State::is_clean_closed(State::Closed { stay: STAY_MASK, failures: 0 }.pack()));
    let unclean = [
        State::Closed { stay: 0, failures: 1 },
        State::Closed { stay: STAY_MASK, failures: MAX_COUNT },
        State::Open { until: 0 },
        State::HalfOpen { stay: 0, admitted: 0, succeeded: 0 },
        State::ForcedOpen { stay: 0 },
        State::Disabled { stay: 0 },
    ];
    for s in unclean {
        assert!(!State::is_clean_closed(s.pack()), "{s:?}");
    }
}

#[test]
fn failures_open_at_threshold() {
    let s = State::initial();
    let d = decide(s, fin(s, Outcome::Failure), 5, &LIM, 9, NO_DEADLINE);
    let s1 = d.next.unwrap();
    assert_eq!(s1, State::Closed { stay: 0, failures: 1 });
    let d = decide(s1, fin(s, Outcome::Failure), 5, &LIM, 9, NO_DEADLINE);
    assert_eq!(d.next, Some(State::Open { until: 105 }));
}

#[test]
fn open_rejects_then_admits_one_probe() {
    let s = State::Open { until: 100 };
    let d = decide(s, Event::Acquire, 40, &LIM, 3, NO_DEADLINE);
    assert_eq!(d.verdict, Verdict::Rejected { retry_after: Some(60) });
    let d = decide(s, Event::Acquire, 100, &LIM, 3, NO_DEADLINE);
    let probe = State::HalfOpen { stay: 3, admitted: 1, succeeded: 0 };
    assert_eq!(d, Decision::to(probe, Verdict::Admitted(probe)));
}

#[test]
fn stale_permit_changes_nothing() {
    let old = State::Closed { stay: 1, failures: 0 };
    let cur = State::Closed { stay: 2, failures: 1 };
    assert_eq!(decide(cur, fin(old, Outcome::Failure), 0, &LIM, 5, NO_DEADLINE).next, None);
}

#[test]
fn half_open_needs_all_successes() {
    let s = State::HalfOpen { stay: 4, admitted: 2, succeeded: 0 };
    let s1 = decide(s, fin(s, Outcome::Success), 0, &LIM, 8, NO_DEADLINE).next.unwrap();
    assert_eq!(s1, State::HalfOpen { stay: 4, admitted: 2, succeeded: 1 });
    let s2 = decide(s1, fin(s, Outcome::Success), 0, &LIM, 8, NO_DEADLINE).next.unwrap();
    assert_eq!(s2, State::Closed { stay: 8, failures: 0 });
}

#[test]
fn overrides_keep_the_stay_when_already_there() {
    let s = State::Closed { stay: 4, failures: 3 };
    assert_eq!(
        decide(s, Event::Reset, 0, &LIM, 9, NO_DEADLINE).next,
        Some(State::Closed { stay: 4, failures: 0 })
    );
    let f = State::ForcedOpen { stay: 2 };
    assert_eq!(decide(f, Event::ForceOpen, 0, &LIM, 9, NO_DEADLINE).next, None);
    assert_eq!(
        decide(f, Event::Reset, 0, &LIM, 9, NO_DEADLINE).next,
        Some(State::Closed { stay: 9, failures: 0 })
    );
}

#[test]
fn open_for_never_shortens() {
    let s = State::Open { until: 500 };
    assert_eq!(decide(s, Event::OpenFor(10), 100, &LIM, 0, NO_DEADLINE).next, None);
    assert_eq!(
        decide(s, Event::OpenFor(900), 100, &LIM, 0, NO_DEADLINE).next,
        Some(State::Open { until: 1000 })
    );
}

#[test]
fn half_open_times_out_into_open() {
    let lim = Limits { half_open_max_nanos: Some(50), ..LIM };
    let d = decide(State::Open { until: 100 }, Event::Acquire, 100, &lim, 3, NO_DEADLINE);
    let probe = d.next.unwrap();
    let until = half_open_deadline(100, &lim);
    assert_eq!(until, 150);
    let full = State::HalfOpen { stay: 3, admitted: 2, succeeded: 0 };
    assert_eq!(decide(full, Event::Acquire, 149, &lim, 4, until).next, None);
    let d = decide(full, Event::Acquire, 150, &lim, 4, until);
    assert_eq!(d, Decision::to(State::Open { until: 250 }, Verdict::Rejected { retry_after: Some(100) }));
    let late = decide(full, fin(probe, Outcome::Success), 170, &lim, 4, until);
    assert_eq!(late.next, Some(State::Open { until: 270 }));
    assert!(needs_clock(full, fin(probe, Outcome::Success), &lim));
    assert!(!needs_clock(full, fin(probe, Outcome::Success), &LIM));
}
