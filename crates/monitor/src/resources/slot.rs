//! The last reading of one probe: status and usage packed in one atomic, read lock-free.

use std::sync::atomic::{AtomicU64, Ordering};

use elf_resilience_core::ResourceStatus;

/// A status code meaning "never sampled".
const NEVER: u64 = 7;

/// What a slot holds at a given time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SlotRead {
    /// A reading within its TTL.
    Fresh(ResourceStatus, f64),
    /// A reading past its TTL.
    Stale,
    /// No reading yet.
    Empty,
}

/// Status (high 32 bits) and usage as `f32` bits (low 32 bits) in one word, plus the
/// monotonic nanosecond time the reading stops being fresh.
#[derive(Debug)]
pub(crate) struct Slot {
    packed: AtomicU64,
    fresh_until: AtomicU64,
}

impl Default for Slot {
    fn default() -> Self {
        Self { packed: AtomicU64::new(NEVER << 32), fresh_until: AtomicU64::new(0) }
    }
}

impl Slot {
    /// Stores a reading that stays fresh until `fresh_until` nanoseconds.
    pub(crate) fn store(&self, status: ResourceStatus, usage: f64, fresh_until: u64) {
        self.fresh_until.store(fresh_until, Ordering::Relaxed);
        self.packed.store(pack(status, usage), Ordering::Release);
    }

    /// Reads the slot at monotonic time `now`.
    #[inline]
    pub(crate) fn load(&self, now: u64) -> SlotRead {
        let packed = self.packed.load(Ordering::Acquire);
        let code = packed >> 32;
        if code == NEVER {
            return SlotRead::Empty;
        }
        if now >= self.fresh_until.load(Ordering::Relaxed) {
            return SlotRead::Stale;
        }
        SlotRead::Fresh(decode_status(code), f64::from(f32::from_bits(packed as u32)))
    }
}

fn pack(status: ResourceStatus, usage: f64) -> u64 {
    (encode_status(status) << 32) | u64::from((usage as f32).to_bits())
}

fn encode_status(status: ResourceStatus) -> u64 {
    match status {
        ResourceStatus::Healthy => 0,
        ResourceStatus::Warning => 1,
        ResourceStatus::Critical => 2,
        ResourceStatus::Exhausted => 3,
        _ => 4,
    }
}

fn decode_status(code: u64) -> ResourceStatus {
    match code {
        0 => ResourceStatus::Healthy,
        1 => ResourceStatus::Warning,
        2 => ResourceStatus::Critical,
        3 => ResourceStatus::Exhausted,
        _ => ResourceStatus::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_status_and_usage_until_stale() {
        let slot = Slot::default();
        assert_eq!(slot.load(0), SlotRead::Empty);
        slot.store(ResourceStatus::Warning, 81.5, 100);
        assert_eq!(slot.load(99), SlotRead::Fresh(ResourceStatus::Warning, 81.5));
        assert_eq!(slot.load(100), SlotRead::Stale);
        slot.store(ResourceStatus::Unknown, 0.0, 200);
        assert_eq!(slot.load(150), SlotRead::Fresh(ResourceStatus::Unknown, 0.0));
    }
}
