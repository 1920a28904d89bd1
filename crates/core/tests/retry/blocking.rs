//! Blocking retries, driven by a ManualClock and a recording sleeper: nothing really sleeps.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use elf_resilience_core::{
    AdaptiveBackoff, Clock, ExponentialBackoff, FixedDelay, LinearBackoff, ManualClock, Retry,
    RetryAfterHint, RetryBudget, RetryErrorKind,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A sleeper that records each wait and advances the clock by it.
fn recording(clock: &ManualClock) -> (Rc<RefCell<Vec<Duration>>>, impl Fn(Duration) + use<>) {
    let waits = Rc::new(RefCell::new(Vec::new()));
    let (w, c) = (waits.clone(), clock.clone());
    (waits, move |d| {
        w.borrow_mut().push(d);
        c.advance(d);
    })
}

/// An operation failing `n` times, then returning `Ok(attempt)`.
fn fails(n: u32) -> (Rc<Cell<u32>>, impl FnMut() -> Result<u32, String>) {
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    (calls, move || {
        c.set(c.get() + 1);
        if c.get() <= n { Err(format!("failure {}", c.get())) } else { Ok(c.get()) }
    })
}

#[test]
fn first_try_success_never_sleeps() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let retry = Retry::with_max_retries(3).sleeper(sleeper);
    assert_eq!(retry.call(|| Ok::<_, ()>(7)), Ok(7));
    assert!(waits.borrow().is_empty());
}

#[test]
fn with_retry_waits_one_two_four_seconds() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let (calls, op) = fails(3);
    assert_eq!(Retry::with_max_retries(3).sleeper(sleeper).call(op), Ok(4));
    assert_eq!(calls.get(), 4);
    assert_eq!(*waits.borrow(), [secs(1), secs(2), secs(4)]);
}

#[test]
fn exhausted_keeps_the_last_error() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let (_, op) = fails(10);
    let err = Retry::with_max_retries(2).sleeper(sleeper).call(op).unwrap_err();
    assert_eq!(err.kind(), RetryErrorKind::Exhausted);
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.inner(), "failure 3");
    assert_eq!(waits.borrow().len(), 2);
}

#[test]
fn seed_custom_policy_waits_its_schedule() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let policy = ExponentialBackoff::try_new(5, Duration::from_millis(500), 3.0, secs(30), false).unwrap();
    let (_, op) = fails(100);
    let err = Retry::new(policy).sleeper(sleeper).call(op).unwrap_err();
    assert_eq!(err.attempts(), 6);
    let got: Vec<f64> = waits.borrow().iter().map(Duration::as_secs_f64).collect();
    assert_eq!(got, [0.5, 1.5, 4.5, 13.5, 30.0]);
    assert_eq!(clock.now(), Duration::from_millis(50_000));
}

#[test]
fn not_retryable_stops_at_once() {
    let (calls, op) = fails(5);
    let retry = Retry::with_max_retries(5)
        .retry_if(|e: &String| !e.starts_with("failure"))
        .sleeper(|_| panic!("slept"));
    let err = retry.call(op).unwrap_err();
    assert!(err.is_not_retryable());
    assert_eq!((err.attempts(), calls.get()), (1, 1));
}

#[test]
fn retry_on_result_exhaustion_reports_attempts_and_keeps_the_last_value() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let calls = Cell::new(0);
    let retry =
        Retry::new(FixedDelay::new().with_max_retries(2)).retry_on_result(|v: &String| v.starts_with("busy"));
    let op = || {
        calls.set(calls.get() + 1);
        Ok::<_, std::io::Error>(format!("busy {}", calls.get()))
    };
    let err = retry.sleeper(sleeper).call(op).unwrap_err();
    assert_eq!((err.kind(), err.attempts(), calls.get()), (RetryErrorKind::Exhausted, 3, 3));
    assert!(err.is_rejected_value());
    assert_eq!(err.rejected_value().map(String::as_str), Some("busy 3"));
    assert!(err.error().is_none());
    assert_eq!(err.to_string(), "retries exhausted after 3 attempts: the last result was rejected");
    assert!(std::error::Error::source(&err).is_none());
    assert_eq!(err.into_last().unwrap(), "busy 3");
    assert_eq!(*waits.borrow(), [secs(1), secs(1)]);
    assert_eq!(clock.now(), secs(2));
}

#[test]
fn retry_on_result_keeps_the_last_error_when_an_error_ends_the_call() {
    let calls = Cell::new(0);
    let retry = Retry::new(FixedDelay::new().with_max_retries(3))
        .retry_on_result(|v: &u32| *v == 0)
        .retry_if(|e: &&str| *e != "fatal")
        .sleeper(|_| {});
    let err = retry
        .call(|| {
            calls.set(calls.get() + 1);
            if calls.get() < 2 { Ok(0) } else { Err("fatal") }
        })
        .unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (RetryErrorKind::NotRetryable, 2));
    assert!(!err.is_rejected_value());
    assert_eq!(err.error(), Some(&"fatal"));
    assert_eq!(err.to_string(), "error not retryable after 2 attempts: fatal");
    assert_eq!(err.into_last(), Err("fatal"));
}

#[test]
fn retry_on_result_stopped_by_max_attempts_or_elapsed_keeps_the_value() {
    let retry =
        Retry::new(FixedDelay::new().without_max_retries()).retry_on_result(|v: &u8| *v > 0).sleeper(|_| {});
    let err = retry.clone().max_attempts(5).call(|| Ok::<u8, &str>(7)).unwrap_err();
    assert_eq!((err.kind(), err.attempts(), err.rejected_value()), (RetryErrorKind::Exhausted, 5, Some(&7)));
    assert_eq!(err.to_string(), "retries exhausted after 5 attempts: the last result was rejected");

    let clock = ManualClock::new();
    let (_, sleeper) = recording(&clock);
    let timed = Retry::new(FixedDelay::new().with_delay(secs(4)).without_max_retries())
        .retry_on_result(|v: &u8| *v > 0)
        .max_elapsed(secs(10))
        .clock(clock.clone())
        .sleeper(sleeper);
    let err = timed.call(|| Ok::<u8, &str>(1)).unwrap_err();
    // Waits of 4 s and 4 s fit in 10 s, a third would end at 12 s.
    assert_eq!((err.kind(), err.attempts()), (RetryErrorKind::ElapsedLimit, 3));
    assert_eq!(err.to_string(), "retry time limit reached after 3 attempts: the last result was rejected");
    assert_eq!(clock.now(), secs(8));
}

#[test]
fn retry_on_result_with_one_attempt_says_attempt() {
    let retry =
        Retry::new(FixedDelay::new()).retry_on_result(|v: &i32| *v < 0).max_attempts(1).sleeper(|_| {});
    let err = retry.call(|| Ok::<_, &str>(-1)).unwrap_err();
    assert_eq!(err.to_string(), "retries exhausted after 1 attempt: the last result was rejected");
    assert_eq!(err.attempts(), 1);
}

#[test]
fn retry_on_result_accepts_a_good_value() {
    let calls = Cell::new(0);
    let retry = Retry::new(FixedDelay::new()).retry_on_result(|v: &u32| *v < 2).sleeper(|_| {});
    let got = retry.call(|| {
        calls.set(calls.get() + 1);
        Ok::<_, ()>(calls.get())
    });
    assert_eq!(got, Ok(2));
}

#[test]
fn max_attempts_cuts_a_longer_schedule() {
    let (calls, op) = fails(100);
    let retry = Retry::new(FixedDelay::new().without_max_retries()).max_attempts(4).sleeper(|_| {});
    let err = retry.call(op).unwrap_err();
    assert_eq!((err.kind(), err.attempts(), calls.get()), (RetryErrorKind::Exhausted, 4, 4));
}

#[test]
fn max_elapsed_counts_attempt_time_and_waits() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let op_clock = clock.clone();
    let op = || {
        op_clock.advance(secs(2)); // each attempt takes 2 s
        Err::<(), _>("slow failure")
    };
    let retry = Retry::new(LinearBackoff::new().without_max_retries())
        .max_elapsed(secs(11))
        .clock(clock.clone())
        .sleeper(sleeper);
    let err = retry.call(op).unwrap_err();
    // t=2 wait 1 -> t=5 wait 2 -> t=9: 9 + 3 > 11, stop.
    assert!(err.is_elapsed_limit());
    assert_eq!(err.attempts(), 3);
    assert_eq!(*waits.borrow(), [secs(1), secs(2)]);
    assert_eq!(clock.now(), secs(9));
}

#[test]
fn notify_sees_every_retry() {
    let seen = RefCell::new(Vec::new());
    let (_, op) = fails(2);
    let retry = Retry::with_max_retries(5)
        .notify(|attempt, delay, e: &String| seen.borrow_mut().push((attempt, delay, e.clone())))
        .sleeper(|_| {});
    assert_eq!(retry.call(op), Ok(3));
    assert_eq!(
        *seen.borrow(),
        [(1, secs(1), "failure 1".to_string()), (2, secs(2), "failure 2".to_string())]
    );
}

#[derive(Debug, PartialEq)]
struct Throttled(u64);

impl RetryAfterHint for Throttled {
    fn retry_after(&self) -> Option<Duration> {
        Some(secs(self.0))
    }
}

#[test]
fn retry_after_hint_lengthens_but_never_shortens() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let hints = Cell::new([10, 0, 500].into_iter());
    let op = || {
        let mut it = hints.take();
        let h = it.next();
        hints.set(it);
        h.map_or(Ok(()), |h| Err(Throttled(h)))
    };
    let retry = Retry::with_max_retries(5).retry_after_hint().max_hint(secs(30)).sleeper(sleeper);
    assert_eq!(retry.call(op), Ok(()));
    // hint 10 s over 1 s; backoff 2 s over hint 0; hint 500 s capped at 30 s.
    assert_eq!(*waits.borrow(), [secs(10), secs(2), secs(30)]);
}

#[test]
fn hint_closure_reads_any_error() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let (_, op) = fails(1);
    let retry =
        Retry::with_max_retries(1).hint(|e: &String| e.ends_with('1').then_some(secs(7))).sleeper(sleeper);
    assert_eq!(retry.call(op), Ok(2));
    assert_eq!(*waits.borrow(), [secs(7)]);
}

#[test]
fn hint_never_pushes_past_the_time_limit() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let retry = Retry::with_max_retries(5)
        .retry_after_hint()
        .max_elapsed(secs(20))
        .clock(clock.clone())
        .sleeper(sleeper);
    let err = retry.call(|| Err::<(), _>(Throttled(25))).unwrap_err();
    assert!(err.is_elapsed_limit());
    assert!(waits.borrow().is_empty());
}

#[test]
fn shared_budget_stops_two_policies() {
    let clock = ManualClock::new();
    let budget = RetryBudget::builder().min_per_sec(0).retry_ratio(0.5).clock(clock.clone()).build().unwrap();
    let a = Retry::with_max_retries(10).budget(budget.clone()).sleeper(|_| {});
    let b = Retry::new(FixedDelay::new().with_max_retries(10)).budget(budget.clone()).sleeper(|_| {});
    for _ in 0..4 {
        assert_eq!(a.call(|| Ok::<_, ()>(())), Ok(())); // four calls deposit two retries
    }
    let err = b.call(|| Err::<(), _>("down")).unwrap_err();
    // The failing call deposits too: (4 + 1) × 0.5 = 2.5, so two retries, three attempts.
    assert!(err.is_budget_spent());
    assert_eq!(err.attempts(), 3);
    assert_eq!(budget.available_retries(), 0);
    clock.advance(secs(10));
    let err = a.call(|| Err::<(), _>("down")).unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (RetryErrorKind::BudgetSpent, 1));
}

#[test]
fn adaptive_backoff_as_a_source() {
    let clock = ManualClock::new();
    let (waits, sleeper) = recording(&clock);
    let adaptive = AdaptiveBackoff::new().with_max_retries(2);
    let retry = Retry::new(adaptive.clone()).sleeper(sleeper);
    adaptive.record_failure();
    let _ = retry.call(|| Err::<(), _>(()));
    adaptive.record_success();
    adaptive.record_success();
    let _ = retry.call(|| Err::<(), _>(()));
    assert_eq!(*waits.borrow(), [secs(2), secs(2), Duration::from_millis(500), Duration::from_millis(500)]);
}

#[test]
fn error_display_and_source() {
    let err =
        Retry::with_max_retries(0).call(|| Err::<(), _>(std::io::Error::other("disk on fire"))).unwrap_err();
    assert_eq!(err.to_string(), "retries exhausted after 1 attempt: disk on fire");
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "disk on fire");
}
