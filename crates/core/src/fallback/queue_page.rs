//! Counting and paging a [`RequestQueue`](super::RequestQueue) without reading all of it.

use serde::{Deserialize, Serialize};

use super::queue::{QueueError, QueuedRequest, Ticket, TicketStatus};

/// How many requests a queue holds in each status, as [`RequestQueue::counts`] reads them.
///
/// Serializes as `{"pending": N, "leased": N, "done": N, "dead_lettered": N}`.
///
/// ```
/// use elf_resilience_core::{EnqueueRequest, InMemoryQueue, QueueCounts, RequestQueue, TicketStatus};
/// use std::time::SystemTime;
///
/// let q = InMemoryQueue::new();
/// q.enqueue(EnqueueRequest::new("summarize", serde_json::json!(1)), SystemTime::UNIX_EPOCH).unwrap();
/// let counts = q.counts().unwrap();
/// assert_eq!(counts.get(TicketStatus::Pending), 1);
/// assert_eq!(counts.total(), 1);
/// assert_eq!(serde_json::to_value(counts).unwrap()["pending"], 1);
/// ```
///
/// [`RequestQueue::counts`]: super::RequestQueue::counts
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueueCounts {
    /// Waiting for delivery.
    pub pending: usize,
    /// Handed to a consumer.
    pub leased: usize,
    /// Acknowledged.
    pub done: usize,
    /// Failed their attempts.
    pub dead_lettered: usize,
}

impl QueueCounts {
    /// The count of `status`.
    pub const fn get(&self, status: TicketStatus) -> usize {
        match status {
            TicketStatus::Pending => self.pending,
            TicketStatus::Leased => self.leased,
            TicketStatus::Done => self.done,
            TicketStatus::DeadLettered => self.dead_lettered,
        }
    }

    /// Sets the count of `status`.
    pub fn set(&mut self, status: TicketStatus, n: usize) {
        match status {
            TicketStatus::Pending => self.pending = n,
            TicketStatus::Leased => self.leased = n,
            TicketStatus::Done => self.done = n,
            TicketStatus::DeadLettered => self.dead_lettered = n,
        }
    }

    /// Requests in any status.
    pub const fn total(&self) -> usize {
        self.pending + self.leased + self.done + self.dead_lettered
    }

    /// Counts `requests` one by one: what a backend without an index does.
    pub fn tally<'a>(requests: impl IntoIterator<Item = &'a QueuedRequest>) -> Self {
        let mut counts = Self::default();
        for r in requests {
            counts.set(r.status, counts.get(r.status) + 1);
        }
        counts
    }
}

impl TicketStatus {
    /// Every status, in the order counts and listings show them.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Leased, Self::Done, Self::DeadLettered];
}

/// The page of `all` (oldest first) that follows `after`, at most `limit` long: the default of
/// `RequestQueue::page` for backends that can only list everything.
pub(crate) fn page_of(
    all: Vec<QueuedRequest>,
    after: Option<&Ticket>,
    limit: usize,
) -> Result<Vec<QueuedRequest>, QueueError> {
    let start = match after {
        None => 0,
        Some(t) => {
            let at = all.iter().position(|r| &r.ticket == t);
            at.ok_or_else(|| QueueError::UnknownTicket(t.clone()))? + 1
        }
    };
    Ok(all.into_iter().skip(start).take(limit).collect())
}
