//! Shared circuit-breaker state: every process publishes snapshots of its breakers to one
//! store, reads the others', and picks up trip / reset commands addressed to it.
//!
//! [`BreakerPublisher`] does the publishing and applies commands on each tick;
//! [`SqliteBreakerStore`](crate::SqliteBreakerStore) (one machine) and `RedisBreakerStore`
//! (feature `redis`, several machines) keep the state.

#[cfg(feature = "testing")]
mod conformance;
mod owner;
mod publisher;
mod publishing;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

#[cfg(feature = "testing")]
pub use conformance::breaker_store_conformance;
pub use owner::Owner;
pub use publisher::{BreakerPublisher, Tick};
pub use publishing::PublisherHandle;

/// One breaker of one process, as last published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerSnapshot {
    /// The breaker's name.
    pub name: String,
    /// The process that owns it.
    pub owner: Owner,
    /// Its state: `closed`, `open`, `half_open`, `forced_open` or `disabled`.
    pub state: String,
    /// Its statistics as JSON (the fields of `CircuitStats`).
    pub stats: serde_json::Value,
    /// When it was published, in seconds since the Unix epoch when serialized.
    #[serde(with = "unix_secs")]
    pub updated_at: SystemTime,
}

impl BreakerSnapshot {
    /// How long ago it was published, as seen at `now` (zero if published "later").
    pub fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.updated_at).unwrap_or_default()
    }
}

/// What an operator asks the owner of a breaker to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerCommand {
    /// Open the breaker now.
    Trip,
    /// Close the breaker and clear its counts.
    Reset,
}

impl BreakerCommand {
    /// `trip` or `reset`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trip => "trip",
            Self::Reset => "reset",
        }
    }

    /// The command named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "trip" => Some(Self::Trip),
            "reset" => Some(Self::Reset),
            _ => None,
        }
    }
}

impl fmt::Display for BreakerCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the breaker store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BreakerStoreError {
    /// The backend (SQLite, Redis) failed.
    #[error("breaker store backend: {0}")]
    Backend(String),
    /// A stored value could not be encoded or decoded.
    #[error("breaker store serialization: {0}")]
    Serialization(String),
}

/// Where processes keep their breakers' snapshots and the commands addressed to them.
///
/// Every backend passes `breaker_store_conformance` (feature `testing`).
pub trait BreakerStateStore: Send + Sync + fmt::Debug {
    /// Replaces every snapshot of `owner_id` with `snapshots` (an empty slice withdraws it).
    fn publish(&self, owner_id: &str, snapshots: &[BreakerSnapshot]) -> Result<(), BreakerStoreError>;

    /// Every published snapshot, ordered by name then owner.
    fn snapshots(&self) -> Result<Vec<BreakerSnapshot>, BreakerStoreError>;

    /// Queues `command` for breaker `name` of process `owner_id`.
    fn send_command(
        &self,
        owner_id: &str,
        name: &str,
        command: BreakerCommand,
    ) -> Result<(), BreakerStoreError>;

    /// Removes and returns the commands queued for `owner_id`, oldest first.
    fn take_commands(&self, owner_id: &str) -> Result<Vec<(String, BreakerCommand)>, BreakerStoreError>;

    /// Deletes snapshots published before `cutoff` (their processes are gone); returns how many.
    fn remove_older_than(&self, cutoff: SystemTime) -> Result<usize, BreakerStoreError>;
}

mod unix_secs {
    use super::{Duration, SystemTime, UNIX_EPOCH};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let secs = f64::deserialize(d)?;
        Ok(UNIX_EPOCH + Duration::try_from_secs_f64(secs).unwrap_or_default())
    }
}
