//! A ring of time buckets held in atomics: the in-memory ledger's storage for one
//! (team, model) series at one resolution.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::ledger::Usage;

/// One bucket: which bucket index it holds (plus one; 0 = empty) and its counters.
#[derive(Debug, Default)]
struct Slot {
    tag: AtomicU64,
    tokens: AtomicU64,
    requests: AtomicU64,
}

/// `len` buckets of `width` seconds each, reused round-robin. `len` is a power of two, so a
/// slot is found with a mask rather than a division.
#[derive(Debug)]
pub(crate) struct Ring {
    width: u64,
    mask: u64,
    slots: Box<[Slot]>,
}

impl Ring {
    /// A ring of `len` buckets, rounded up to a power of two.
    pub(crate) fn new(width: u64, len: usize) -> Self {
        let len = len.next_power_of_two();
        Self { width, mask: len as u64 - 1, slots: (0..len).map(|_| Slot::default()).collect() }
    }

    /// How many buckets it keeps.
    pub(crate) fn len(&self) -> u64 {
        self.slots.len() as u64
    }

    /// The bucket that second `secs` falls in.
    pub(crate) fn bucket_of(&self, secs: u64) -> u64 {
        secs / self.width
    }

    fn slot(&self, bucket: u64) -> &Slot {
        &self.slots[(bucket & self.mask) as usize]
    }

    /// Adds `usage` to bucket `bucket` (the caller divides by the width, with a constant).
    /// `rollover` serialises the rare reset of a reused slot.
    pub(crate) fn add(&self, bucket: u64, usage: Usage, rollover: &Mutex<()>) {
        let slot = self.slot(bucket);
        if slot.tag.load(Ordering::Acquire) != bucket + 1 && !Self::claim(slot, bucket, rollover) {
            return;
        }
        slot.tokens.fetch_add(usage.tokens, Ordering::Relaxed);
        slot.requests.fetch_add(usage.requests, Ordering::Relaxed);
    }

    /// Makes `slot` hold `bucket`, unless it already holds a newer one (then the record is
    /// too old for this ring and is dropped here). An add that read the old tag just before a
    /// reset lands in the new bucket; that takes a record a whole ring length late, or a thread
    /// stalled that long between two instructions.
    fn claim(slot: &Slot, bucket: u64, rollover: &Mutex<()>) -> bool {
        let _guard = rollover.lock().unwrap_or_else(|e| e.into_inner());
        let tag = slot.tag.load(Ordering::Acquire);
        if tag > bucket + 1 {
            return false;
        }
        if tag < bucket + 1 {
            slot.tokens.store(0, Ordering::Relaxed);
            slot.requests.store(0, Ordering::Relaxed);
            slot.tag.store(bucket + 1, Ordering::Release);
        }
        true
    }

    /// The usage in bucket `bucket`, if the ring still holds it.
    pub(crate) fn get(&self, bucket: u64) -> Usage {
        let slot = self.slot(bucket);
        if slot.tag.load(Ordering::Acquire) != bucket + 1 {
            return Usage::default();
        }
        Usage::new(slot.tokens.load(Ordering::Relaxed), slot.requests.load(Ordering::Relaxed))
    }

    /// The buckets overlapping `[from, to)` seconds that the ring can still hold, given the
    /// newest second recorded anywhere (`high_water`).
    pub(crate) fn buckets(&self, from: u64, to: u64, high_water: u64) -> std::ops::Range<u64> {
        let first = from / self.width;
        let end = to.div_ceil(self.width);
        let oldest_kept = (high_water / self.width + 1).saturating_sub(self.len());
        first.max(oldest_kept)..end.max(first)
    }

    /// Whether the ring still holds the bucket of second `from`.
    pub(crate) fn covers(&self, from: u64, high_water: u64) -> bool {
        from / self.width + self.len() > high_water / self.width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_forgets_the_old_bucket() {
        let ring = Ring::new(60, 4);
        let lock = Mutex::new(());
        ring.add(0, Usage::new(5, 1), &lock);
        ring.add(0, Usage::new(5, 1), &lock);
        assert_eq!(ring.get(0), Usage::new(10, 2));
        ring.add(4, Usage::new(1, 1), &lock);
        assert_eq!(ring.get(0), Usage::default());
        assert_eq!(ring.get(4), Usage::new(1, 1));
        // A record older than what the slot now holds is dropped, not mixed in.
        ring.add(0, Usage::new(100, 1), &lock);
        assert_eq!(ring.get(4), Usage::new(1, 1));
    }

    #[test]
    fn bucket_ranges_widen_outward_and_stop_at_what_is_kept() {
        let ring = Ring::new(60, 9);
        assert_eq!(ring.len(), 16);
        assert_eq!(ring.buckets(61, 119, 200), 1..2);
        assert_eq!(ring.buckets(60, 120, 200), 1..2);
        assert_eq!(ring.buckets(0, 6000, 6000), 85..100);
        assert!(ring.covers(600, 1000));
        assert!(!ring.covers(0, 960));
    }
}
