//! [`BreakerPublisher`]: publishes a registry's breakers and applies the commands sent to them.

use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{CircuitBreakerRegistry, CircuitStats, SharedClock, SystemClock};

use super::{BreakerCommand, BreakerSnapshot, BreakerStateStore, BreakerStoreError, Owner};

/// What one [`BreakerPublisher::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Commands applied to a breaker of the registry.
    pub applied: usize,
    /// Commands for a breaker the registry does not have (dropped).
    pub unknown: usize,
    /// Snapshots published.
    pub published: usize,
}

/// Publishes the breakers of a [`CircuitBreakerRegistry`] to a [`BreakerStateStore`] on every
/// tick, after applying the trip / reset commands other processes queued for them.
///
/// ```
/// use std::sync::Arc;
/// use elf_resilience_core::CircuitBreakerRegistry;
/// use elf_resilience_store::{BreakerCommand, BreakerPublisher, BreakerStateStore, Owner, SqliteBreakerStore};
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = Arc::new(SqliteBreakerStore::open(dir.path().join("breakers.db")).unwrap());
/// let registry = Arc::new(CircuitBreakerRegistry::default());
/// registry.get_or_create("openai");
/// let publisher = BreakerPublisher::new(registry.clone(), store.clone()).owner(Owner::named("worker-1"));
/// publisher.tick().unwrap();
/// assert_eq!(store.snapshots().unwrap()[0].state, "closed");
///
/// // Another process (a dashboard) asks for a trip; the owner applies it on its next tick.
/// store.send_command("worker-1", "openai", BreakerCommand::Trip).unwrap();
/// publisher.tick().unwrap();
/// assert!(registry.get("openai").unwrap().state().is_open());
/// assert_eq!(store.snapshots().unwrap()[0].state, "open");
/// ```
///
/// In a tokio runtime, [`spawn`](Self::spawn) ticks at an interval.
#[derive(Debug, Clone)]
pub struct BreakerPublisher {
    registry: Arc<CircuitBreakerRegistry>,
    store: Arc<dyn BreakerStateStore>,
    owner: Owner,
    clock: SharedClock,
    timeout: Duration,
}

impl BreakerPublisher {
    /// How long a spawned publisher waits for one tick unless told otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// A publisher of `registry` into `store`.
    ///
    /// # Default
    ///
    /// Owner [`Owner::this_process`], the system clock, a [`timeout`](Self::timeout) of
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT).
    pub fn new(registry: Arc<CircuitBreakerRegistry>, store: Arc<dyn BreakerStateStore>) -> Self {
        let clock = SystemClock::shared();
        Self { registry, store, owner: Owner::this_process(), clock, timeout: Self::DEFAULT_TIMEOUT }
    }

    /// Publishes as `owner` (its id must be unique among publishers).
    pub fn owner(mut self, owner: Owner) -> Self {
        self.owner = owner;
        self
    }

    /// The clock that stamps snapshots.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How long a [`spawn`](Self::spawn)ed publisher waits for one tick (or the final withdraw)
    /// before it logs that the store is not answering and moves on. The tick keeps its blocking
    /// thread until the store answers; ticks that fall due meanwhile are skipped, never queued.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The [`timeout`](Self::timeout) of a spawned publisher.
    pub fn tick_timeout(&self) -> Duration {
        self.timeout
    }

    /// Who this publisher publishes as.
    pub fn owner_id(&self) -> &str {
        &self.owner.id
    }

    /// Applies the commands queued for this owner, then publishes every breaker.
    pub fn tick(&self) -> Result<Tick, BreakerStoreError> {
        let mut tick = Tick::default();
        for (name, command) in self.store.take_commands(&self.owner.id)? {
            match self.registry.get(&name) {
                Some(breaker) => {
                    match command {
                        BreakerCommand::Trip => breaker.trip(),
                        BreakerCommand::Reset => breaker.reset(),
                    }
                    tracing::info!(breaker = %name, %command, "breaker changed by a remote command");
                    tick.applied += 1;
                }
                None => {
                    tracing::warn!(breaker = %name, %command, "remote command for an unknown breaker");
                    tick.unknown += 1;
                }
            }
        }
        let snapshots: Vec<_> = self.registry.stats().iter().map(|s| self.snapshot(s)).collect();
        self.store.publish(&self.owner.id, &snapshots)?;
        tick.published = snapshots.len();
        Ok(tick)
    }

    fn snapshot(&self, stats: &CircuitStats) -> BreakerSnapshot {
        let json = serde_json::to_value(stats).unwrap_or_default();
        let state = json["state"].as_str().unwrap_or("unknown").to_owned();
        BreakerSnapshot {
            name: stats.name.clone(),
            owner: self.owner.clone(),
            state,
            stats: json,
            updated_at: self.clock.wall(),
        }
    }

    /// Withdraws this owner's snapshots (for a clean exit).
    pub fn withdraw(&self) -> Result<(), BreakerStoreError> {
        self.store.publish(&self.owner.id, &[])
    }
}
