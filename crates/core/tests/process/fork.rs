//! Fork: a breaker opened before `fork()` half-opens on time in the child.
//!
//! An open breaker reads its own clock, and nothing it depends on runs in a background thread
//! that a forked child would lack. This binary runs without the test harness
//! (`harness = false`), so the process forks while it has one thread. In the child, a breaker
//! on a `ManualClock` half-opens exactly at its recovery timeout as the clock is advanced, and
//! one on the system clock reads that clock itself (its retry-after comes from the child's own
//! reading); the child tells the parent what it saw through its exit code. No test waits.

use elf_resilience_core::{CircuitBreaker, CircuitState, Clock, ManualClock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

const RECOVERY: Duration = Duration::from_secs(60);

/// Child exit codes.
const HALF_OPENED: i32 = 0;
const NOT_OPEN: i32 = 3;
const WRONG_RETRY_AFTER: i32 = 4;
const EARLY: i32 = 5;
const WRONG_STATE: i32 = 6;

pub(crate) fn run() {
    #[cfg(unix)]
    {
        a_forked_child_half_opens_on_time();
        println!("test a_forked_child_half_opens_on_time ... ok");
    }
}

/// A breaker on `clock` opened by one failure.
fn opened(name: &str, clock: Arc<dyn Clock>) -> CircuitBreaker {
    let cb =
        CircuitBreaker::builder().name(name).failure_threshold(1).recovery_timeout(RECOVERY).clock(clock);
    let cb = cb.build().unwrap_or_else(|e| panic!("valid config: {e}"));
    let _ = cb.call(|| Err::<(), _>("down"));
    assert!(cb.state().is_open(), "one failure opens it");
    cb
}

#[cfg(unix)]
fn a_forked_child_half_opens_on_time() {
    let clock = ManualClock::new();
    let manual = opened("fork-manual", Arc::new(clock.clone()));
    let system = opened("fork-system", SystemClock::shared());
    match fork() {
        0 => exit_child(in_child(&manual, &clock, &system)),
        child => {
            let code = wait_for(child);
            assert_eq!(code, HALF_OPENED, "the child's breakers misbehaved (exit code {code})");
        }
    }
}

/// In the child: the system-clock breaker is open with a retry-after from the child's own
/// clock reading; the manual one stays open until its recovery timeout, then admits a probe.
#[cfg(unix)]
fn in_child(manual: &CircuitBreaker, clock: &ManualClock, system: &CircuitBreaker) -> i32 {
    match system.try_acquire() {
        Err(open) if open.retry_after.is_some_and(|d| d > Duration::ZERO && d <= RECOVERY) => {}
        Err(_) => return WRONG_RETRY_AFTER,
        Ok(_) => return NOT_OPEN,
    }
    match manual.try_acquire() {
        Err(open) if open.retry_after == Some(RECOVERY) => {}
        Err(_) => return WRONG_RETRY_AFTER,
        Ok(_) => return NOT_OPEN,
    }
    clock.advance(RECOVERY - Duration::from_nanos(1));
    if manual.try_acquire().is_ok() {
        return EARLY;
    }
    clock.advance(Duration::from_nanos(1));
    match manual.try_acquire() {
        Ok(permit) if permit.admitted_in() == CircuitState::HalfOpen => {
            permit.success();
            if manual.state() == CircuitState::Closed { HALF_OPENED } else { WRONG_STATE }
        }
        _ => WRONG_STATE,
    }
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn fork() -> libc::pid_t {
    // SAFETY: the process has one thread (no test harness), so the child inherits no lock
    // held by another thread.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    pid
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` ends the child at once, without running the parent's exit handlers.
    unsafe { libc::_exit(code) }
}

/// Waits for `child` and returns its exit code (-1 if it did not exit normally).
#[cfg(unix)]
#[allow(unsafe_code)]
fn wait_for(child: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: `status` is a valid place for the child's status.
    let waited = unsafe { libc::waitpid(child, &mut status, 0) };
    assert_eq!(waited, child, "waitpid failed: {}", std::io::Error::last_os_error());
    if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 }
}
