//! Fork: a breaker opened before `fork()` half-opens on time in the child.
//!
//! An open breaker reads its own clock (the system clock, the CPU's counter), and nothing it
//! depends on runs in a background thread that a forked child would lack. This binary runs
//! without the test harness (`harness = false`), so the process forks while it has one thread.
//! The child polls its copy of the breaker against the real clock, the subject of the test, in
//! a loop bounded by a deadline, and tells the parent what it saw through its exit code.

use elf_resilience_core::{CircuitBreaker, CircuitState};
use std::time::{Duration, Instant};

const RECOVERY: Duration = Duration::from_millis(50);
/// Far longer than the recovery timeout: only a breaker that never half-opens reaches it.
const DEADLINE: Duration = Duration::from_secs(5);

/// Child exit codes.
const HALF_OPENED: i32 = 0;
const STILL_OPEN: i32 = 3;
const WRONG_STATE: i32 = 4;

pub(crate) fn run() {
    #[cfg(unix)]
    {
        a_forked_child_half_opens_on_time();
        println!("test a_forked_child_half_opens_on_time ... ok");
    }
}

#[cfg(unix)]
fn a_forked_child_half_opens_on_time() {
    let cb = CircuitBreaker::builder().name("fork").failure_threshold(1).recovery_timeout(RECOVERY).build();
    let cb = cb.unwrap_or_else(|e| panic!("valid config: {e}"));
    let before_opening = Instant::now();
    let _ = cb.call(|| Err::<(), _>("down"));
    let open = cb.try_acquire().err().unwrap_or_else(|| panic!("the breaker opened"));
    assert!(open.retry_after.is_some_and(|d| d <= RECOVERY), "{open}");
    match fork() {
        0 => exit_child(probe_until_half_open(&cb)),
        child => {
            let code = wait_for(child);
            assert_eq!(code, HALF_OPENED, "the child's breaker did not half-open (exit code {code})");
            // Not before the recovery timeout (less a margin for the two clocks' calibration).
            assert!(before_opening.elapsed() >= RECOVERY * 9 / 10, "the child half-opened early");
        }
    }
}

/// In the child: asks the breaker until it admits a probe; the exit code says how it went.
#[cfg(unix)]
fn probe_until_half_open(cb: &CircuitBreaker) -> i32 {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        match cb.try_acquire() {
            Ok(permit) if permit.admitted_in() == CircuitState::HalfOpen => {
                permit.success();
                return if cb.state() == CircuitState::Closed { HALF_OPENED } else { WRONG_STATE };
            }
            Ok(_) => return WRONG_STATE,
            Err(open) if open.retry_after.is_none() => return WRONG_STATE,
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    STILL_OPEN
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
