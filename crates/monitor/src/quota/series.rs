//! One (team, model) pair's usage: shared bucket rings at three resolutions, plus what each
//! recording thread holds pending for its current second.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use super::ledger::Usage;
use super::pending::{Pending, PendingSet};
use super::ring::Ring;

/// Seconds kept at one-second resolution.
const SECOND_SLOTS: usize = 128;
/// Minutes kept at one-minute resolution: 2048, over 34 hours.
const MINUTE_SLOTS: usize = 2048;
/// Hours kept at one-hour resolution: 1024, over 42 days.
const HOUR_SLOTS: usize = 1024;

/// One (team, model) pair's usage.
#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) team: Box<str>,
    pub(crate) model: Box<str>,
    rings: [Ring; 3],
    rollover: Mutex<()>,
    pending: PendingSet,
}

impl Series {
    pub(crate) fn new(team: &str, model: &str) -> Self {
        Self {
            team: team.into(),
            model: model.into(),
            rings: [Ring::new(1, SECOND_SLOTS), Ring::new(60, MINUTE_SLOTS), Ring::new(3600, HOUR_SLOTS)],
            rollover: Mutex::new(()),
            pending: PendingSet::default(),
        }
    }

    /// Adds straight to the shared rings (atomic adds).
    pub(crate) fn add(&self, secs: u64, usage: Usage) {
        // Constant divisors compile to multiplications.
        self.rings[0].add(secs, usage, &self.rollover);
        self.rings[1].add(secs / 60, usage, &self.rollover);
        self.rings[2].add(secs / 3600, usage, &self.rollover);
    }

    /// Adds through the calling thread's `pending` cell: to it when `secs` is its second,
    /// else moving its usage to the rings first. A record older than the pending second goes
    /// straight to the rings.
    #[inline]
    pub(crate) fn record(&self, pending: &Pending, secs: u64, usage: Usage) {
        if pending.add_if_current(secs, usage) {
            return;
        }
        match pending.second() {
            Some(current) if secs < current => self.add(secs, usage),
            _ => pending.restart(Some((secs, usage)), |s, u| self.add(s, u)),
        }
    }

    /// A pending cell for the calling thread.
    pub(crate) fn register(&self) -> Arc<Pending> {
        self.pending.register()
    }

    /// Moves what `pending` holds into the rings and forgets it.
    pub(crate) fn retire(&self, pending: &Arc<Pending>) {
        pending.restart(None, |s, u| self.add(s, u));
        self.pending.unregister(pending);
    }

    /// The finest ring that still holds `from`, or the coarsest.
    fn ring_for(&self, from: u64, high_water: u64) -> usize {
        self.rings.iter().position(|r| r.covers(from, high_water)).unwrap_or(2)
    }

    /// The usage over `[from, to)` seconds, widened to whole buckets.
    pub(crate) fn usage(&self, from: u64, to: u64, high_water: u64) -> Usage {
        let ring = &self.rings[self.ring_for(from, high_water)];
        let range = ring.buckets(from, to, high_water);
        self.pending.consistent(|owners| {
            let shared = range.clone().map(|b| ring.get(b)).fold(Usage::default(), |a, u| a + u);
            let pending = owners.iter().filter_map(|p| p.load());
            pending.filter(|(secs, _)| range.contains(&ring.bucket_of(*secs))).fold(shared, |a, (_, u)| a + u)
        })
    }

    /// The non-empty buckets of ring `index` (0: seconds, 1: minutes, 2: hours) overlapping
    /// `[from, to)` seconds, oldest first, pending usage included.
    pub(crate) fn buckets(&self, index: usize, from: u64, to: u64, high_water: u64) -> Vec<(u64, Usage)> {
        let ring = &self.rings[index];
        let range = ring.buckets(from, to, high_water);
        let mut out = self.pending.consistent(|owners| {
            let mut out: Vec<(u64, Usage)> = range.clone().map(|b| (b, ring.get(b))).collect();
            for (secs, usage) in owners.iter().filter_map(|p| p.load()) {
                if let Some(i) = index_in(&range, ring.bucket_of(secs)) {
                    out[i].1 += usage;
                }
            }
            out
        });
        out.retain(|(_, u)| !u.is_zero());
        out
    }
}

fn index_in(range: &Range<u64>, bucket: u64) -> Option<usize> {
    range.contains(&bucket).then(|| (bucket - range.start) as usize)
}
