//! The in-memory usage ledger: striped series of atomic bucket rings.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::ledger::{
    LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger, unix_secs,
    unix_secs_ceil,
};
use super::local::{self, DROPPED_LEDGERS, Key};
use super::series::Series;

const STRIPES: usize = 16;

type Stripe = RwLock<HashTable<(u64, Arc<Series>)>>;

/// Ledger ids, so a thread's handles never mix ledgers.
static NEXT_LEDGER_ID: AtomicU64 = AtomicU64::new(1);

/// A usage ledger held in memory: counters per (team, model), kept at one-second resolution
/// for two minutes, one-minute for 34 hours and one-hour for 42 days.
///
/// Recording takes no lock and no locked instruction in the common case: each thread keeps,
/// per (team, model), what it recorded in its current second in a cell only it writes, and
/// adds that to the shared atomic bucket rings when its second changes (or when it exits).
/// Queries add every thread's pending cell to the rings, so a record is visible as soon as
/// `record` returns. The first record of a thread to a pair finds the pair under a striped
/// lock; a record older than the thread's pending second goes straight to the rings.
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
    alive: Arc<AtomicBool>,
}

impl Drop for InMemoryLedger {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Relaxed);
        DROPPED_LEDGERS.fetch_add(1, Ordering::Relaxed);
    }
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
            alive: Arc::new(AtomicBool::new(true)),
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
        let secs = local::unix_secs_cached(at);
        self.bump_high_water(secs);
        let hash = self.hash(team, model);
        let key = Key { ledger: self.id, alive: &self.alive, hash, team, model };
        if !local::record(key, secs, usage, || self.series(hash, team, model)) {
            self.series(hash, team, model).add(secs, usage);
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
            for (b, u) in s.buckets(index, from, to, hw) {
                *sums.entry(b).or_default() += u;
            }
        });
        let width = step.seconds();
        Ok(sums
            .into_iter()
            .map(|(b, usage)| UsageBucket { start: UNIX_EPOCH + Duration::from_secs(b * width), usage })
            .collect())
    }
}
