//! Circuit breaker cases: closed calls in three configurations, and an open rejection.

use crate::{measure, op};
use elf_resilience_core::{CircuitBreaker, CircuitBreakerBuilder, SlidingWindow};
use failsafe::CircuitBreaker as _;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn builder() -> CircuitBreakerBuilder {
    CircuitBreaker::builder().name("bench").recovery_timeout(HOUR)
}

/// The default configuration: opens after consecutive failures.
fn consecutive() -> CircuitBreaker {
    builder().build().expect("valid config")
}

/// A count window of 100 calls, judged from 10 calls on.
fn count_window() -> CircuitBreaker {
    builder()
        .sliding_window(SlidingWindow::Count(100))
        .failure_rate_threshold(50.0)
        .minimum_calls(10)
        .build()
        .expect("valid config")
}

fn time_window_builder() -> CircuitBreakerBuilder {
    builder()
        .sliding_window(SlidingWindow::Time(Duration::from_secs(60)))
        .failure_rate_threshold(50.0)
        .minimum_calls(10)
}

fn failsafe_breaker() -> impl failsafe::CircuitBreaker {
    let policy = failsafe::failure_policy::consecutive_failures(5, failsafe::backoff::constant(HOUR));
    failsafe::Config::new().failure_policy(policy).build()
}

/// recloser's ring buffer of 100 calls opening at a 50 % error rate (its defaults), with a long
/// open wait.
fn recloser_window() -> recloser::Recloser {
    recloser::Recloser::custom().error_rate(0.5).closed_len(100).open_wait(HOUR).build()
}

fn closed(n: u64, cb: &CircuitBreaker) {
    assert!(cb.call(op).is_ok());
    measure(n, || cb.call(op));
}

pub(crate) fn closed_elf(n: u64) {
    closed(n, &consecutive());
}

pub(crate) fn closed_failsafe(n: u64) {
    let fs = failsafe_breaker();
    measure(n, || fs.call(op));
}

pub(crate) fn closed_recloser(n: u64) {
    let rc = recloser::Recloser::default();
    measure(n, || rc.call(op));
}

pub(crate) fn count_window_elf(n: u64) {
    closed(n, &count_window());
}

pub(crate) fn count_window_recloser(n: u64) {
    let rc = recloser_window();
    measure(n, || rc.call(op));
}

pub(crate) fn time_window_elf(n: u64) {
    closed(n, &time_window_builder().build().expect("valid config"));
}

pub(crate) fn time_window_slow_elf(n: u64) {
    let cb = time_window_builder()
        .slow_call_duration(Duration::from_secs(1))
        .slow_call_rate_threshold(50.0)
        .build()
        .expect("valid config");
    closed(n, &cb);
}

pub(crate) fn open_elf(n: u64) {
    let cb = consecutive();
    cb.trip();
    assert!(cb.call(op).is_err());
    measure(n, || cb.call(op));
}

pub(crate) fn open_failsafe(n: u64) {
    let fs = failsafe_breaker();
    while fs.is_call_permitted() {
        let _ = fs.call(|| Err::<(), _>(()));
    }
    measure(n, || fs.call(op));
}

pub(crate) fn open_recloser(n: u64) {
    let rc = recloser_window();
    while !matches!(rc.call(|| Err::<(), _>(())), Err(recloser::Error::Rejected)) {}
    measure(n, || rc.call(op));
}
