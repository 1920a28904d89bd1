//! Each thread's handles on the series it records to, so a record neither takes a lock nor
//! touches a shared counter: it finds its own pending cell in a thread-local table.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hashbrown::HashTable;

use super::ledger::{Usage, unix_secs};
use super::pending::Pending;
use super::series::Series;

/// Entries a thread keeps before it starts afresh (moving all pending usage to the rings).
const CAPACITY: usize = 256;

/// Ledgers dropped so far: a thread that sees this change drops its entries for dead ledgers.
pub(crate) static DROPPED_LEDGERS: AtomicU64 = AtomicU64::new(0);

/// Which series a record is for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key<'a> {
    pub(crate) ledger: u64,
    pub(crate) alive: &'a Arc<AtomicBool>,
    pub(crate) hash: u64,
    pub(crate) team: &'a str,
    pub(crate) model: &'a str,
}

/// A thread's handle on one series of one ledger.
struct Entry {
    ledger: u64,
    alive: Arc<AtomicBool>,
    hash: u64,
    series: Arc<Series>,
    pending: Arc<Pending>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.series.retire(&self.pending);
    }
}

#[derive(Default)]
struct Local {
    entries: HashTable<Entry>,
    dropped_seen: u64,
}

thread_local! {
    static LOCAL: RefCell<Local> = RefCell::default();
    /// The last whole second converted, as `[start, end)` and its count since the epoch.
    static SECOND: Cell<(SystemTime, SystemTime, u64)> = const { Cell::new((UNIX_EPOCH, UNIX_EPOCH, 0)) };
}

/// Whole seconds since the Unix epoch (0 before it), like `unix_secs`, but a time within the
/// second converted last on this thread costs two comparisons instead of a subtraction.
#[inline]
pub(crate) fn unix_secs_cached(at: SystemTime) -> u64 {
    let (start, end, secs) = SECOND.get();
    if start <= at && at < end {
        return secs;
    }
    let secs = unix_secs(at);
    let start = UNIX_EPOCH + Duration::from_secs(secs);
    if let Some(end) = start.checked_add(Duration::from_secs(1)) {
        SECOND.set((start, end, secs));
    }
    secs
}

/// Records `usage` at `secs` through the calling thread's pending cell for `key`, finding
/// the series with `find` the first time. `false` when the thread cannot (its local storage
/// is being torn down): the caller then adds to the shared rings.
#[inline]
pub(crate) fn record(key: Key<'_>, secs: u64, usage: Usage, find: impl FnOnce() -> Arc<Series>) -> bool {
    LOCAL
        .try_with(|local| {
            let Ok(mut local) = local.try_borrow_mut() else { return false };
            let eq = |e: &Entry| {
                e.ledger == key.ledger
                    && e.hash == key.hash
                    && *e.series.team == *key.team
                    && *e.series.model == *key.model
            };
            if let Some(e) = local.entries.find(key.hash, eq) {
                e.series.record(&e.pending, secs, usage);
                return true;
            }
            local.make_room();
            let series = find();
            let pending = series.register();
            series.record(&pending, secs, usage);
            let alive = key.alive.clone();
            let entry = Entry { ledger: key.ledger, alive, hash: key.hash, series, pending };
            local.entries.insert_unique(key.hash, entry, |e| e.hash);
            true
        })
        .unwrap_or(false)
}

impl Local {
    /// Drops the entries of dropped ledgers, and all of them when the table is full.
    fn make_room(&mut self) {
        let dropped = DROPPED_LEDGERS.load(Ordering::Relaxed);
        if dropped != self.dropped_seen {
            self.dropped_seen = dropped;
            self.entries.retain(|e| e.alive.load(Ordering::Relaxed));
        }
        if self.entries.len() >= CAPACITY {
            self.entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_seconds_agree_with_the_plain_conversion() {
        let base = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let early = UNIX_EPOCH.checked_sub(Duration::from_millis(1500)).unwrap();
        let times = [0, 1, 999_999_999, 1_000_000_000, 999_999_999, 2_500_000_000, 0]
            .map(|n| base + Duration::from_nanos(n))
            .into_iter()
            .chain([UNIX_EPOCH, early, early, UNIX_EPOCH + Duration::from_nanos(1), base]);
        for t in times {
            assert_eq!(unix_secs_cached(t), unix_secs(t), "{t:?}");
        }
    }
}
