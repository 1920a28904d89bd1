//! The registry's map with its bound: least recently used idle breakers go first.
//!
//! Every entry carries the registry tick of its last use. When the map grows past its bound it
//! sweeps: the idle entries (closed, and held by nobody but the map) are sorted by last use and
//! the oldest are dropped until the map is an eighth below the bound, so a sweep's cost is
//! spread over the inserts that follow it. Breakers that are open, half-open, forced open,
//! disabled or held elsewhere (by a caller, a permit of a call in flight) are never dropped; if
//! too few are idle the map stays above its bound until they are.

use super::{CircuitBreaker, CircuitState};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A breaker and when it was last used.
#[derive(Debug)]
struct Entry {
    breaker: CircuitBreaker,
    used: AtomicU64,
}

impl Entry {
    /// True if dropping the entry loses nothing but a closed breaker's counts.
    fn idle(&self) -> bool {
        Arc::strong_count(&self.breaker.inner) == 1 && self.breaker.state() == CircuitState::Closed
    }
}

/// Breakers by name, bounded.
#[derive(Debug)]
pub(crate) struct Bounded {
    entries: HashMap<Arc<str>, Entry>,
    max: usize,
    /// The length at which the next insert sweeps.
    sweep_at: usize,
}

impl Bounded {
    pub(crate) fn new(max: usize) -> Self {
        Self { entries: HashMap::new(), max, sweep_at: max }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The breaker called `name`, marked as used at `tick`.
    pub(crate) fn get(&self, name: &str, tick: u64) -> Option<CircuitBreaker> {
        let entry = self.entries.get(name)?;
        entry.used.store(tick, Relaxed);
        Some(entry.breaker.clone())
    }

    /// The breaker called `name`, made by `make` if absent (then sweeping if over the bound).
    pub(crate) fn get_or_insert(
        &mut self,
        name: &str,
        tick: u64,
        make: impl FnOnce() -> CircuitBreaker,
    ) -> CircuitBreaker {
        if let Some(found) = self.get(name, tick) {
            return found;
        }
        let breaker = make();
        let entry = Entry { breaker: breaker.clone(), used: AtomicU64::new(tick) };
        self.entries.insert(breaker.inner.cfg.name.clone(), entry);
        if self.entries.len() > self.sweep_at {
            self.sweep();
        }
        breaker
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<CircuitBreaker> {
        self.entries.remove(name).map(|e| e.breaker)
    }

    pub(crate) fn breakers(&self) -> impl Iterator<Item = &CircuitBreaker> {
        self.entries.values().map(|e| &e.breaker)
    }

    /// Drops the least recently used idle breakers until the map is an eighth below its bound.
    fn sweep(&mut self) {
        let target = self.max - self.max / 8;
        let excess = self.entries.len().saturating_sub(target);
        let mut idle: Vec<(u64, Arc<str>)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.idle())
            .map(|(name, e)| (e.used.load(Relaxed), name.clone()))
            .collect();
        idle.sort_unstable_by_key(|(used, _)| *used);
        for (_, name) in idle.into_iter().take(excess) {
            self.entries.remove(&name);
        }
        // Above the bound still (too few idle): sweep again only after another eighth.
        self.sweep_at = self.max.max(self.entries.len().saturating_add(self.max / 8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(map: &mut Bounded, names: impl IntoIterator<Item = u64>) {
        for i in names {
            map.get_or_insert(&i.to_string(), i, || CircuitBreaker::new(i.to_string()));
        }
    }

    #[test]
    fn a_sweep_drops_the_least_recently_used_idle_breakers() {
        let mut map = Bounded::new(8);
        fill(&mut map, 0..8);
        assert!(map.get("0", 100).is_some(), "used again: now the most recent");
        let held = map.get("1", 1).unwrap_or_else(|| unreachable!("present"));
        map.get("2", 2).unwrap_or_else(|| unreachable!("present")).trip();
        fill(&mut map, 8..9);
        assert_eq!(map.len(), 7, "swept to an eighth below the bound");
        let kept = |m: &Bounded, n: &str| m.entries.contains_key(n);
        assert!(kept(&map, "0") && kept(&map, "1") && kept(&map, "2") && kept(&map, "8"));
        assert!(!kept(&map, "3") && !kept(&map, "4"), "the oldest idle ones went");
        drop(held);
    }

    #[test]
    fn without_idle_breakers_the_map_grows_and_sweeps_less_often() {
        let mut map = Bounded::new(8);
        fill(&mut map, 0..8);
        map.breakers().for_each(CircuitBreaker::trip);
        fill(&mut map, 8..10);
        assert_eq!((map.len(), map.sweep_at), (10, 10), "open breakers are kept");
        fill(&mut map, 10..11);
        assert_eq!(map.len(), 9, "the idle newcomers went at the next sweep");
        assert!(map.breakers().all(|cb| cb.state().is_open() || cb.name() == "10"));
    }
}
