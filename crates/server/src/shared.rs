//! Breakers of other processes: read from the shared breaker store, shown beside this
//! process's own, and changed by commands their owners apply on their next tick.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use elf_resilience::{
    BreakerCommand, BreakerSnapshot, BreakerStateStore, BreakerStoreError, CircuitStats, Owner,
};
use serde_json::{Value, json};

use crate::config::{Config, DROP_AFTER, STALE_AFTER};

/// The shared breaker store as this process sees it.
#[derive(Debug, Clone)]
pub struct SharedBreakers {
    /// The store every process publishes to.
    pub store: Arc<dyn BreakerStateStore>,
    /// Who this process publishes as (its own entries are not "remote").
    pub me: Owner,
    /// Entries older than this are marked stale.
    pub stale_after: Duration,
    /// Entries older than this are dropped.
    pub drop_after: Duration,
}

impl SharedBreakers {
    /// Over `store`, publishing as `me`, with the ages of `[breakers]`.
    pub fn new(store: Arc<dyn BreakerStateStore>, me: Owner, config: &Config) -> Self {
        let b = &config.breakers;
        Self {
            store,
            me,
            stale_after: b.stale_after.map_or(STALE_AFTER, |d| d.0),
            drop_after: b.drop_after.map_or(DROP_AFTER, |d| d.0),
        }
    }

    /// The other processes' breakers still within `drop_after`, oldest dropped from the store.
    pub fn remote(&self, now: SystemTime) -> Result<Vec<BreakerSnapshot>, BreakerStoreError> {
        if let Some(cutoff) = now.checked_sub(self.drop_after) {
            self.store.remove_older_than(cutoff)?;
        }
        let all = self.store.snapshots()?;
        Ok(all.into_iter().filter(|s| s.owner.id != self.me.id && s.age(now) <= self.drop_after).collect())
    }

    /// Local stats then remote snapshots, each with `owner`, `local`, `age` and `stale`.
    pub fn listing(&self, local: &[CircuitStats], now: SystemTime) -> Result<Vec<Value>, BreakerStoreError> {
        let mut out: Vec<Value> = local.iter().map(|s| entry(json!(s), &self.me, true, 0.0, false)).collect();
        for s in self.remote(now)? {
            let age = s.age(now);
            out.push(entry(s.stats.clone(), &s.owner, false, age.as_secs_f64(), age > self.stale_after));
        }
        Ok(out)
    }

    /// Queues `command` for every remote breaker called `name` (of `owner` only, if given);
    /// returns the owners it was sent to.
    pub fn send(
        &self,
        name: &str,
        owner: Option<&str>,
        command: BreakerCommand,
        now: SystemTime,
    ) -> Result<Vec<String>, BreakerStoreError> {
        let targets: Vec<String> = self
            .remote(now)?
            .into_iter()
            .filter(|s| s.name == name && owner.is_none_or(|o| o == s.owner.id))
            .map(|s| s.owner.id)
            .collect();
        for id in &targets {
            self.store.send_command(id, name, command)?;
        }
        Ok(targets)
    }
}

/// This process's own entries, for a listing without a shared store.
pub fn local_listing(local: &[CircuitStats]) -> Vec<Value> {
    let me = Owner::this_process();
    local.iter().map(|s| entry(json!(s), &me, true, 0.0, false)).collect()
}

fn entry(mut stats: Value, owner: &Owner, local: bool, age: f64, stale: bool) -> Value {
    if let Some(obj) = stats.as_object_mut() {
        obj.insert("owner".into(), json!(owner));
        obj.insert("local".into(), json!(local));
        obj.insert("age".into(), json!(age));
        obj.insert("stale".into(), json!(stale));
    }
    stats
}
