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
}

impl BreakerPublisher {
    /// A publisher of `registry` into `store`.
    ///
    /// # Default
    ///
    /// Owner [`Owner::this_process`], the system clock.
    pub fn new(registry: Arc<CircuitBreakerRegistry>, store: Arc<dyn BreakerStateStore>) -> Self {
        Self { registry, store, owner: Owner::this_process(), clock: SystemClock::shared() }
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

    /// Ticks every `interval` on the current tokio runtime until the handle is stopped. On a
    /// multi-threaded runtime each tick runs under `block_in_place`: a store that answers
    /// slowly (Redis stalled, up to its I/O timeout) holds up no timer or other task.
    pub fn spawn(self, interval: Duration) -> PublisherHandle {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = stopped.wait_for(|s| *s) => break,
                }
                if let Err(e) = off_the_worker(|| self.tick()) {
                    tracing::warn!(error = %e, "publishing breakers failed");
                }
            }
            if let Err(e) = off_the_worker(|| self.withdraw()) {
                tracing::warn!(error = %e, "withdrawing breakers failed");
            }
        });
        PublisherHandle { stop, task }
    }
}

/// Runs `f` under `block_in_place` on a multi-threaded runtime, as it is on a current-thread one.
fn off_the_worker<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A spawned [`BreakerPublisher`]; [`stop`](Self::stop) withdraws its snapshots.
#[derive(Debug)]
pub struct PublisherHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl PublisherHandle {
    /// Stops ticking and withdraws the snapshots; returns when done.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
