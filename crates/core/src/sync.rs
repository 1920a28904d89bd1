//! The atomics and lock the lock-free state uses (the breaker's state word and windows, the
//! rate limiter's TAT, the retry budget's buckets, the adaptive backoff's delay): loom's under
//! `cfg(loom)`, so the loom models explore every interleaving of the real code, std's
//! otherwise.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering, fence};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `m`, recovering the data if a panicking thread poisoned it (the guarded data is
/// plain bookkeeping that every writer leaves consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
