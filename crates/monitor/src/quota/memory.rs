//! The in-memory usage ledger: striped series of atomic bucket rings.

use std::cell::RefCell;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::ledger::{
    LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger, unix_secs,
    unix_secs_ceil,
};
use super::ring::Ring;

const STRIPES: usize = 16;
/// Seconds kept at one-second resolution.
const SECOND_SLOTS: usize = 128;
/// Minutes kept at one-minute resolution: 2048, over 34 hours.
const MINUTE_SLOTS: usize = 2048;
/// Hours kept at one-hour resolution: 1024, over 42 days.
const HOUR_SLOTS: usize = 1024;

/// One (team, model) pair's usage at three resolutions.
#[derive(Debug)]
struct Series {
    team: Box<str>,
    model: Box<str>,
    rings: [Ring; 3],
    rollover: Mutex<()>,
}

impl Series {
    fn new(team: &str, model: &str) -> Self {
        Self {
            team: team.into(),
            model: model.into(),
            rings: [Ring::new(1, SECOND_SLOTS), Ring::new(60, MINUTE_SLOTS), Ring::new(3600, HOUR_SLOTS)],
            rollover: Mutex::new(()),
        }
    }

    fn add(&self, secs: u64, usage: Usage) {
        // Constant divisors compile to multiplications.
        self.rings[0].add(secs, usage, &self.rollover);
        self.rings[1].add(secs / 60, usage, &self.rollover);
        self.rings[2].add(secs / 3600, usage, &self.rollover);
    }

    /// The finest ring that still holds `from`, or the coarsest.
    fn ring_for(&self, from: u64, high_water: u64) -> &Ring {
        self.rings.iter().find(|r| r.covers(from, high_water)).unwrap_or(&self.rings[2])
    }

    fn usage(&self, from: u64, to: u64, high_water: u64) -> Usage {
        let ring = self.ring_for(from, high_water);
        ring.buckets(from, to, high_water).map(|b| ring.get(b)).fold(Usage::default(), |a, u| a + u)
    }
}

type Stripe = RwLock<HashTable<(u64, Arc<Series>)>>;

/// Ledger ids, so a thread's cache never mixes ledgers.
static NEXT_LEDGER_ID: AtomicU64 = AtomicU64::new(1);
const RECENT_SLOTS: usize = 16;
/// A cached series: (ledger id, hash, series).
type Recent = Option<(u64, u64, Arc<Series>)>;

thread_local! {
    /// The series this thread recorded to lately, by (ledger id, hash): lets `record` skip the
    /// stripe lock. Direct-mapped; a miss falls back to the stripes.
    static RECENT: RefCell<[Recent; RECENT_SLOTS]> = const { RefCell::new([const { None }; RECENT_SLOTS]) };
}

/// A usage ledger held in memory: lock-free counters per (team, model), kept at one-second
/// resolution for two minutes, one-minute for 34 hours and one-hour for 42 days.
///
/// Recording is a handful of atomic adds: each thread remembers the series it wrote to lately,
/// and otherwise finds them under a striped read lock; only the first record of a new pair, or
/// the first in a new bucket, takes a lock for writing.
///
/// ```
/// use elf_resilience_monitor::{InMemoryLedger, TimeRange, Usage, UsageFilter, UsageLedger};
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
///
/// let ledger = InMemoryLedger::new();
/// let t = UNIX_EPOCH + Duration::from_secs(1_700_000_040);
/// ledger.record("sales", "gpt-4", Usage::new(1200, 1), t).unwrap();
/// let hour = TimeRange::last(Duration::from_secs(3600), t + Duration::from_secs(1));
/// assert_eq!(ledger.usage(UsageFilter::all(), hour).unwrap(), Usage::new(1200, 1));
/// ```
pub struct InMemoryLedger {
    stripes: Box<[Stripe]>,
    hasher: FixedState,
    high_water: AtomicU64,
    id: u64,
}

impl fmt::Debug for InMemoryLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryLedger").field("series", &self.series_count()).finish()
    }
}

impl Default for InMemoryLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| RwLock::new(HashTable::new())).collect(),
            hasher: FixedState::with_seed(0x5eed_e1f0),
            high_water: AtomicU64::new(0),
            id: NEXT_LEDGER_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// How many (team, model) pairs it tracks.
    pub fn series_count(&self) -> usize {
        self.stripes.iter().map(|s| read(s).len()).sum()
    }

    fn hash(&self, team: &str, model: &str) -> u64 {
        self.hasher.hash_one((team, model))
    }

    fn series(&self, hash: u64, team: &str, model: &str) -> Arc<Series> {
        let stripe = &self.stripes[(hash >> 58) as usize % STRIPES];
        let eq = |e: &(u64, Arc<Series>)| e.0 == hash && &*e.1.team == team && &*e.1.model == model;
        if let Some((_, s)) = read(stripe).find(hash, eq) {
            return s.clone();
        }
        let mut table = stripe.write().unwrap_or_else(|e| e.into_inner());
        let entry =
            table.entry(hash, eq, |e| e.0).or_insert_with(|| (hash, Arc::new(Series::new(team, model))));
        entry.get().1.clone()
    }

    fn bump_high_water(&self, secs: u64) {
        if secs > self.high_water.load(Ordering::Relaxed) {
            self.high_water.fetch_max(secs, Ordering::Relaxed);
        }
    }

    fn for_each(&self, filter: UsageFilter<'_>, mut f: impl FnMut(&Series)) {
        for stripe in self.stripes.iter() {
            for (_, s) in read(stripe).iter().filter(|(_, s)| filter.matches(&s.team, &s.model)) {
                f(s);
            }
        }
    }
}

fn read(stripe: &Stripe) -> std::sync::RwLockReadGuard<'_, HashTable<(u64, Arc<Series>)>> {
    stripe.read().unwrap_or_else(|e| e.into_inner())
}

impl UsageLedger for InMemoryLedger {
    fn record(&self, team: &str, model: &str, usage: Usage, at: SystemTime) -> Result<(), LedgerError> {
        let secs = unix_secs(at);
        self.bump_high_water(secs);
        let hash = self.hash(team, model);
        let slot = (hash as usize) % RECENT_SLOTS;
        let hit = RECENT
            .try_with(|recent| match &recent.borrow()[slot] {
                Some((id, h, s))
                    if *id == self.id && *h == hash && &*s.team == team && &*s.model == model =>
                {
                    s.add(secs, usage);
                    true
                }
                _ => false,
            })
            .unwrap_or(false);
        if !hit {
            let series = self.series(hash, team, model);
            series.add(secs, usage);
            let _ = RECENT.try_with(|recent| recent.borrow_mut()[slot] = Some((self.id, hash, series)));
        }
        Ok(())
    }

    fn usage(&self, filter: UsageFilter<'_>, range: TimeRange) -> Result<Usage, LedgerError> {
        let (from, to, hw) =
            (unix_secs(range.from), unix_secs_ceil(range.to), self.high_water.load(Ordering::Relaxed));
        let mut total = Usage::default();
        self.for_each(filter, |s| total += s.usage(from, to, hw));
        Ok(total)
    }

    fn totals(&self, range: TimeRange) -> Result<Vec<LedgerTotal>, LedgerError> {
        let (from, to, hw) =
            (unix_secs(range.from), unix_secs_ceil(range.to), self.high_water.load(Ordering::Relaxed));
        let mut out = Vec::new();
        self.for_each(UsageFilter::all(), |s| {
            let usage = s.usage(from, to, hw);
            if !usage.is_zero() {
                out.push(LedgerTotal { team: s.team.to_string(), model: s.model.to_string(), usage });
            }
        });
        out.sort_by(|a, b| (&a.team, &a.model).cmp(&(&b.team, &b.model)));
        Ok(out)
    }

    fn rollup(
        &self,
        filter: UsageFilter<'_>,
        range: TimeRange,
        step: Rollup,
    ) -> Result<Vec<UsageBucket>, LedgerError> {
        let (from, to, hw) =
            (unix_secs(range.from), unix_secs_ceil(range.to), self.high_water.load(Ordering::Relaxed));
        let index = if step == Rollup::Minute { 1 } else { 2 };
        let mut sums = std::collections::BTreeMap::<u64, Usage>::new();
        self.for_each(filter, |s| {
            let ring = &s.rings[index];
            for b in ring.buckets(from, to, hw) {
                let u = ring.get(b);
                if !u.is_zero() {
                    *sums.entry(b).or_default() += u;
                }
            }
        });
        let width = step.seconds();
        Ok(sums
            .into_iter()
            .map(|(b, usage)| UsageBucket { start: UNIX_EPOCH + Duration::from_secs(b * width), usage })
            .collect())
    }
}
