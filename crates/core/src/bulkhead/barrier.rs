//! An asymmetric fence between freeing a slot (frequent) and starting to wait for one (rare).
//!
//! A free writes its count, then looks for waiters; a waiter announces itself, then looks at
//! the counts. Unless both sides fence, each may miss the other's write, and the waiter sleeps
//! through the free. The cheap way: a free puts only a compiler fence between its two steps
//! ([`light`]), and a waiter makes every running thread of the process pass a full fence
//! (`membarrier`, [`heavy`]) before it looks. Where `membarrier` is missing (not Linux, an old
//! kernel, a filter forbidding it), both sides take a full fence.
//!
//! The price falls on waits: each wait that begins makes one `membarrier` call, a system call
//! of a few microseconds that briefly interrupts the process's other running threads. A
//! bulkhead that is full most of the time with callers allowed to wait pays it per wait; one
//! that is rarely full saves a locked instruction on every call.

use std::sync::atomic::{AtomicU8, Ordering, compiler_fence, fence};

const UNKNOWN: u8 = 0;
const ASYMMETRIC: u8 = 1;
const SYMMETRIC: u8 = 2;

/// Which fences the process uses, decided once, before the first bulkhead exists.
static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Decides the mode, if not yet done (called when a bulkhead is made, so before any free or
/// wait).
pub(super) fn init() {
    if MODE.load(Ordering::Acquire) == UNKNOWN {
        let mode = if register() { ASYMMETRIC } else { SYMMETRIC };
        let _ = MODE.compare_exchange(UNKNOWN, mode, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// The free's side: between writing its count and looking for waiters.
#[inline]
pub(super) fn light() {
    if MODE.load(Ordering::Relaxed) == ASYMMETRIC {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The waiter's side: between announcing itself and looking at the counts.
pub(super) fn heavy() {
    if MODE.load(Ordering::Relaxed) == ASYMMETRIC && expedited() {
        return;
    }
    // Registered, yet refused now (it should not happen): frees fence fully from here on.
    MODE.store(SYMMETRIC, Ordering::SeqCst);
    fence(Ordering::SeqCst);
}

#[cfg(all(target_os = "linux", not(loom)))]
fn register() -> bool {
    use rustix::thread::{MembarrierCommand, membarrier};
    membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok() && expedited()
}

#[cfg(not(all(target_os = "linux", not(loom))))]
fn register() -> bool {
    false
}

/// Runs the process-wide fence; false if it could not run. A process that was registered may
/// not be anymore (a child forked without exec): it registers again and retries once.
#[cfg(all(target_os = "linux", not(loom)))]
fn expedited() -> bool {
    use rustix::thread::{MembarrierCommand, membarrier};
    let fence = || membarrier(MembarrierCommand::PrivateExpedited).is_ok();
    fence() || (membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok() && fence())
}

#[cfg(not(all(target_os = "linux", not(loom))))]
fn expedited() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_is_decided_once() {
        init();
        let mode = MODE.load(Ordering::Acquire);
        assert_ne!(mode, UNKNOWN);
        #[cfg(target_os = "linux")]
        println!("membarrier available: {}", mode == ASYMMETRIC);
        init();
        assert_eq!(MODE.load(Ordering::Acquire), mode);
        light();
        heavy();
    }
}
