//! The durable request queue behind the `QueueRequest` strategy.
//!
//! # Why the trait is synchronous
//!
//! The embedded backend is SQLite, whose calls are synchronous and short (WAL, one small row
//! per request); a Redis backend uses a blocking connection. Every method is therefore a plain
//! `fn`. The fallback protocol calls `enqueue` directly from async code, one short statement;
//! the queue worker runs its calls on tokio's blocking pool, so a slow disk or a distant Redis
//! never holds up the async threads. The in-memory backend never blocks.
//!
//! # Time
//!
//! Methods that depend on time take `now: SystemTime` explicitly, so backends store wall-clock
//! instants (that survive a restart) and tests control time exactly.
//!
//! # Delivery
//!
//! At least once; see [`RequestQueue`]'s `# Delivery`.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::queue_page::QueueCounts;
use crate::resource::Context;

/// The identifier a queue gives an enqueued request. Opaque; unique within one queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ticket(pub String);

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl From<&str> for Ticket {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Where a queued request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TicketStatus {
    /// Waiting (possibly until `not_before`).
    Pending,
    /// Handed to a consumer until `lease_until`.
    Leased,
    /// Acknowledged; `result` holds the handler's answer, if any.
    Done,
    /// Failed `max_attempts` times; kept for inspection until purged.
    DeadLettered,
}

impl TicketStatus {
    /// The snake_case name, as stored by backends.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Leased => "leased",
            Self::Done => "done",
            Self::DeadLettered => "dead_lettered",
        }
    }

    /// Parses [`TicketStatus::as_str`] back.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Leased, Self::Done, Self::DeadLettered].into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the request is finished (done or dead-lettered).
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::DeadLettered)
    }
}

/// What to enqueue: a handler name and the request serialized as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnqueueRequest {
    /// The name of the handler that replays it (see `QueueWorker::register`).
    pub handler: String,
    /// The serialized request.
    pub payload: serde_json::Value,
    /// The call's context.
    pub context: Context,
    /// Failed attempts (nacks) allowed before dead-lettering; at least 1.
    pub max_attempts: u32,
    /// Expired leases allowed before dead-lettering as poison; at least 1.
    #[serde(default = "default_max_expired_leases")]
    pub max_expired_leases: u32,
}

const fn default_max_expired_leases() -> u32 {
    EnqueueRequest::DEFAULT_MAX_EXPIRED_LEASES
}

impl EnqueueRequest {
    /// How many times a request's lease may expire, unless set, before it is taken for poison.
    pub const DEFAULT_MAX_EXPIRED_LEASES: u32 = 10;

    /// A request for `handler` with `payload`, an empty context, 5 attempts and
    /// [`DEFAULT_MAX_EXPIRED_LEASES`](Self::DEFAULT_MAX_EXPIRED_LEASES) expired leases.
    pub fn new(handler: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            handler: handler.into(),
            payload,
            context: Context::new(),
            max_attempts: 5,
            max_expired_leases: Self::DEFAULT_MAX_EXPIRED_LEASES,
        }
    }

    /// Sets the context.
    pub fn context(mut self, ctx: Context) -> Self {
        self.context = ctx;
        self
    }

    /// Sets the number of failed attempts allowed (0 is treated as 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets how many times its lease may expire before it is dead-lettered as poison (0 is
    /// treated as 1).
    pub fn max_expired_leases(mut self, n: u32) -> Self {
        self.max_expired_leases = n.max(1);
        self
    }
}

/// A request as the queue holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedRequest {
    /// Its ticket.
    pub ticket: Ticket,
    /// The handler name.
    pub handler: String,
    /// The serialized request.
    pub payload: serde_json::Value,
    /// The call's context.
    pub context: Context,
    /// Where it stands.
    pub status: TicketStatus,
    /// Deliveries so far (leases handed out), whatever became of them.
    pub attempts: u32,
    /// Failed attempts (nacks) allowed.
    pub max_attempts: u32,
    /// Leases that ran out without an ack or nack: deliveries that are not failed attempts.
    #[serde(default)]
    pub expired_leases: u32,
    /// Expired leases allowed before the request is dead-lettered as poison.
    #[serde(default = "default_max_expired_leases")]
    pub max_expired_leases: u32,
    /// Leases handed back unfinished by [`RequestQueue::release`]: not failed attempts either.
    #[serde(default)]
    pub released: u32,
    /// When it was enqueued.
    pub enqueued_at: SystemTime,
    /// Not delivered before this instant (after a nack with a delay).
    pub not_before: SystemTime,
    /// While leased: when the lease runs out.
    pub lease_until: Option<SystemTime>,
    /// The last error a consumer reported.
    pub last_error: Option<String>,
    /// The handler's answer once done.
    pub result: Option<serde_json::Value>,
}

/// A failure of a queue backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// No request has this ticket (never enqueued, or purged).
    #[error("unknown ticket `{0}`")]
    UnknownTicket(Ticket),
    /// A payload could not be serialized or deserialized.
    #[error("queue payload: {0}")]
    Serialization(String),
    /// The storage behind the queue failed.
    #[error("queue backend: {0}")]
    Backend(String),
}

/// A durable queue of serialized requests.
///
/// # Why the trait is synchronous
///
/// The embedded backend is SQLite, whose calls are synchronous and short (WAL, one small row
/// per request); a Redis backend uses a blocking connection. Every method is therefore a plain
/// `fn`. The fallback protocol calls `enqueue` directly from async code, one short statement;
/// the queue worker runs its calls on tokio's blocking pool, so a slow disk or a distant Redis
/// never holds up the async threads. The in-memory backend never blocks.
///
/// # Time
///
/// Methods that depend on time take `now: SystemTime` explicitly, so backends store wall-clock
/// instants (that survive a restart) and tests control time exactly.
///
/// # Delivery
///
/// At least once. [`RequestQueue::lease`] hands a ready request to one consumer for
/// `lease_for` and counts the delivery in `attempts` (the delivery number a handler sees).
/// [`RequestQueue::ack`] finishes it; [`RequestQueue::nack`] reports a failed attempt and makes it
/// ready again after a delay, or dead-letters it once its failed attempts reach `max_attempts`.
///
/// Only a nack spends `max_attempts`. A lease that expires without ack or nack (the consumer
/// died) makes the request ready again and counts in `expired_leases`; a request whose leases
/// expire `max_expired_leases` times (a poison request that kills its consumer) is dead-lettered,
/// saying so. [`RequestQueue::release`] hands a lease back unfinished (a consumer stopping): the
/// request is ready at once and nothing is spent.
///
/// Every backend must pass [`queue_conformance`](crate::queue_conformance).
pub trait RequestQueue: Send + Sync + fmt::Debug {
    /// Stores a request, ready at once, and returns its ticket.
    fn enqueue(&self, req: EnqueueRequest, now: SystemTime) -> Result<Ticket, QueueError>;

    /// Leases the oldest ready request (for `handler` only, when given) until `now + lease_for`,
    /// counting one attempt. Ready: pending with `not_before <= now`, or leased with an expired
    /// lease. Returns `None` when nothing is ready.
    fn lease(
        &self,
        handler: Option<&str>,
        now: SystemTime,
        lease_for: Duration,
    ) -> Result<Option<QueuedRequest>, QueueError>;

    /// Marks a request done, storing the handler's answer. Acking a done request again is a no-op.
    fn ack(&self, ticket: &Ticket, result: Option<serde_json::Value>) -> Result<(), QueueError>;

    /// Reports a failed delivery. Returns the new status: `Pending` (ready again at
    /// `now + retry_in`) or `DeadLettered` once its failed attempts reach `max_attempts`.
    fn nack(
        &self,
        ticket: &Ticket,
        error: &str,
        now: SystemTime,
        retry_in: Duration,
    ) -> Result<TicketStatus, QueueError>;

    /// Hands a lease back unfinished (the consumer is stopping): the request is pending and
    /// ready at once, and the delivery spends neither an attempt nor an expired lease. Releasing
    /// a request that is not leased changes nothing.
    fn release(&self, ticket: &Ticket) -> Result<(), QueueError>;

    /// The request behind a ticket, in its current state.
    fn get(&self, ticket: &Ticket) -> Result<Option<QueuedRequest>, QueueError>;

    /// Requests in a given status (all when `None`), oldest first, at most `limit`.
    fn list(&self, status: Option<TicketStatus>, limit: usize) -> Result<Vec<QueuedRequest>, QueueError>;

    /// Deletes every request in `status`; returns how many were deleted.
    fn purge(&self, status: TicketStatus) -> Result<usize, QueueError>;

    /// The status of a ticket, or `None` if unknown.
    fn status(&self, ticket: &Ticket) -> Result<Option<TicketStatus>, QueueError> {
        Ok(self.get(ticket)?.map(|r| r.status))
    }

    /// Requests in `status` (all when `None`), oldest first, at most `limit`, starting after the
    /// request `after` (from the start when `None`): a cursor that stays valid while the queue
    /// changes, also when the request it names was removed meanwhile.
    ///
    /// A cursor that is not one of this queue's tickets is [`QueueError::UnknownTicket`]. The
    /// default lists everything and skips to the cursor (and so knows no removed cursor);
    /// backends with an index override it.
    fn page(
        &self,
        status: Option<TicketStatus>,
        after: Option<&Ticket>,
        limit: usize,
    ) -> Result<Vec<QueuedRequest>, QueueError> {
        super::queue_page::page_of(self.list(status, usize::MAX)?, after, limit)
    }

    /// How many requests are in each status. Backends read it from an index or counters kept
    /// with every change, not from the rows; the default counts a full listing.
    fn counts(&self) -> Result<QueueCounts, QueueError> {
        Ok(QueueCounts::tally(&self.list(None, usize::MAX)?))
    }
}

impl QueuedRequest {
    /// A fresh pending request built from `req` at `now`.
    pub fn new(ticket: Ticket, req: EnqueueRequest, now: SystemTime) -> Self {
        Self {
            ticket,
            handler: req.handler,
            payload: req.payload,
            context: req.context,
            status: TicketStatus::Pending,
            attempts: 0,
            max_attempts: req.max_attempts.max(1),
            expired_leases: 0,
            max_expired_leases: req.max_expired_leases.max(1),
            released: 0,
            enqueued_at: now,
            not_before: now,
            lease_until: None,
            last_error: None,
            result: None,
        }
    }

    /// Whether [`RequestQueue::lease`] may hand this request out at `now`.
    pub fn is_ready(&self, now: SystemTime) -> bool {
        match self.status {
            TicketStatus::Pending => self.not_before <= now,
            TicketStatus::Leased => self.lease_until.is_some_and(|t| t <= now),
            _ => false,
        }
    }

    /// Failed attempts so far: deliveries that were neither lost to an expired lease nor released.
    pub const fn failures(&self) -> u32 {
        self.attempts.saturating_sub(self.expired_leases).saturating_sub(self.released)
    }

    /// The lease transition, shared by backends. An expired lease counts in `expired_leases`,
    /// not in the failed attempts; returns `false` (and dead-letters the request) when that
    /// reaches `max_expired_leases`, `true` when the lease was granted.
    pub fn apply_lease(&mut self, now: SystemTime, lease_for: Duration) -> bool {
        if self.status == TicketStatus::Leased {
            self.expired_leases += 1;
            if self.expired_leases >= self.max_expired_leases {
                self.status = TicketStatus::DeadLettered;
                self.lease_until = None;
                self.last_error = Some(format!(
                    "poison request: the consumer died {} times delivering it (its lease expired each time)",
                    self.expired_leases
                ));
                return false;
            }
        }
        self.status = TicketStatus::Leased;
        self.attempts += 1;
        self.lease_until = Some(now + lease_for);
        true
    }

    /// The release transition, shared by backends: a leased request is pending again, ready at
    /// once (its `not_before` has passed, or it would not have been leased).
    pub fn apply_release(&mut self) {
        if self.status != TicketStatus::Leased {
            return;
        }
        self.status = TicketStatus::Pending;
        self.lease_until = None;
        self.released += 1;
    }
    /// The ack transition, shared by backends.
    pub fn apply_ack(&mut self, result: Option<serde_json::Value>) {
        if self.status == TicketStatus::Done {
            return;
        }
        self.status = TicketStatus::Done;
        self.lease_until = None;
        self.result = result;
    }

    /// The nack transition, shared by backends; returns the new status.
    pub fn apply_nack(&mut self, error: &str, now: SystemTime, retry_in: Duration) -> TicketStatus {
        if self.status.is_final() {
            return self.status;
        }
        self.last_error = Some(error.to_owned());
        self.lease_until = None;
        self.status = if self.failures() >= self.max_attempts {
            TicketStatus::DeadLettered
        } else {
            self.not_before = now + retry_in;
            TicketStatus::Pending
        };
        self.status
    }
}
