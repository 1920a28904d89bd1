//! The usage ledger: how many tokens and requests each team spent on each model, and when.
//!
//! Only the trait and the plain types it speaks in live here; the in-memory ledger and the
//! quota tracker are in the monitor crate, the SQLite ledger in the store crate.

use std::fmt;
use std::ops::{Add, AddAssign};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

#[cfg(feature = "testing")]
mod conformance;
#[cfg(feature = "testing")]
pub use conformance::ledger_conformance;

/// Tokens and requests spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Usage {
    /// Tokens (prompt plus completion).
    pub tokens: u64,
    /// Requests.
    pub requests: u64,
}

impl Usage {
    /// `tokens` tokens over `requests` requests.
    pub const fn new(tokens: u64, requests: u64) -> Self {
        Self { tokens, requests }
    }

    /// Whether nothing was spent.
    pub const fn is_zero(&self) -> bool {
        self.tokens == 0 && self.requests == 0
    }
}

impl Add for Usage {
    type Output = Usage;
    fn add(self, rhs: Usage) -> Usage {
        Usage {
            tokens: self.tokens.saturating_add(rhs.tokens),
            requests: self.requests.saturating_add(rhs.requests),
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        *self = *self + rhs;
    }
}

/// A half-open span of wall time, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub from: SystemTime,
    /// Exclusive end.
    pub to: SystemTime,
}

impl TimeRange {
    /// `[from, to)`.
    pub const fn new(from: SystemTime, to: SystemTime) -> Self {
        Self { from, to }
    }

    /// The `len` before `to`: `[to - len, to)`.
    pub fn last(len: Duration, to: SystemTime) -> Self {
        Self { from: to.checked_sub(len).unwrap_or(UNIX_EPOCH), to }
    }
}

/// Which records a query counts: `None` matches every team (or model).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageFilter<'a> {
    /// Only this team.
    pub team: Option<&'a str>,
    /// Only this model.
    pub model: Option<&'a str>,
}

impl<'a> UsageFilter<'a> {
    /// Every team, every model.
    pub const fn all() -> Self {
        Self { team: None, model: None }
    }

    /// One team on one model.
    pub const fn exact(team: &'a str, model: &'a str) -> Self {
        Self { team: Some(team), model: Some(model) }
    }

    /// Whether a (team, model) pair passes the filter.
    pub fn matches(&self, team: &str, model: &str) -> bool {
        self.team.is_none_or(|t| t == team) && self.model.is_none_or(|m| m == model)
    }
}

/// What one team spent on one model over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerTotal {
    /// The team.
    pub team: String,
    /// The model.
    pub model: String,
    /// What it spent.
    pub usage: Usage,
}

/// The width of a rollup bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rollup {
    /// One bucket per minute.
    Minute,
    /// One bucket per hour.
    Hour,
}

impl Rollup {
    /// The bucket width in seconds.
    pub const fn seconds(self) -> u64 {
        match self {
            Self::Minute => 60,
            Self::Hour => 3600,
        }
    }
}

/// What was spent in one rollup bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UsageBucket {
    /// The bucket's start (aligned to its width since the Unix epoch).
    pub start: SystemTime,
    /// What was spent in it.
    pub usage: Usage,
}

/// Why a ledger could not record or answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The backing store failed.
    #[error("usage ledger storage failed: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The ledger was closed.
    #[error("usage ledger is closed")]
    Closed,
}

/// Where usage is written and read back: in memory (the monitor crate's `InMemoryLedger`) or in a
/// database (the store crate's `SqliteLedger`).
///
/// # Resolution
///
/// Records are kept in buckets, so a query's range is widened outward to whole buckets,
/// never narrowed (a quota check errs on the side of "used more"). Ranges whose ends fall on
/// whole minutes within the last day of recorded time, and on whole hours before that, are
/// answered exactly. `ledger_conformance` (feature `testing`) checks these rules on any backend.
pub trait UsageLedger: Send + Sync + fmt::Debug {
    /// Adds `usage` for `team` on `model` at wall time `at`.
    fn record(&self, team: &str, model: &str, usage: Usage, at: SystemTime) -> Result<(), LedgerError>;

    /// What the records matching `filter` add up to over `range`.
    fn usage(&self, filter: UsageFilter<'_>, range: TimeRange) -> Result<Usage, LedgerError>;

    /// The non-zero totals per (team, model) over `range`, sorted by team then model.
    fn totals(&self, range: TimeRange) -> Result<Vec<LedgerTotal>, LedgerError>;

    /// The non-empty buckets of width `step` overlapping `range`, oldest first.
    fn rollup(
        &self,
        filter: UsageFilter<'_>,
        range: TimeRange,
        step: Rollup,
    ) -> Result<Vec<UsageBucket>, LedgerError>;

    /// Makes every record so far visible to queries (for batching backends). A no-op by default.
    fn flush(&self) -> Result<(), LedgerError> {
        Ok(())
    }
}
