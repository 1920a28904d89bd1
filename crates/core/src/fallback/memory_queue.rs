//! The in-memory [`RequestQueue`]: for tests and single-process use; not durable.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::queue::{EnqueueRequest, QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus};
use super::queue_page::QueueCounts;

/// A [`RequestQueue`] held in memory, in enqueue order. Tickets are decimal sequence numbers.
///
/// ```
/// use elf_resilience_core::{EnqueueRequest, InMemoryQueue, RequestQueue, TicketStatus};
/// use std::time::{Duration, SystemTime};
///
/// let q = InMemoryQueue::new();
/// let now = SystemTime::UNIX_EPOCH;
/// let t = q.enqueue(EnqueueRequest::new("summarize", serde_json::json!({"doc": 7})), now).unwrap();
/// let leased = q.lease(None, now, Duration::from_secs(30)).unwrap().unwrap();
/// assert_eq!((leased.ticket.clone(), leased.attempts), (t.clone(), 1));
/// q.ack(&t, Some(serde_json::json!("ok"))).unwrap();
/// assert_eq!(q.status(&t).unwrap(), Some(TicketStatus::Done));
/// ```
#[derive(Debug, Default)]
pub struct InMemoryQueue {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    next_id: u64,
    items: BTreeMap<u64, QueuedRequest>,
}

impl InMemoryQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_item<R>(
        &self,
        ticket: &Ticket,
        f: impl FnOnce(&mut QueuedRequest) -> R,
    ) -> Result<R, QueueError> {
        let id = parse_ticket(ticket)?;
        let mut state = self.lock();
        let item = state.items.get_mut(&id).ok_or_else(|| QueueError::UnknownTicket(ticket.clone()))?;
        Ok(f(item))
    }
}

fn parse_ticket(ticket: &Ticket) -> Result<u64, QueueError> {
    ticket.0.parse().map_err(|_| QueueError::UnknownTicket(ticket.clone()))
}

impl RequestQueue for InMemoryQueue {
    fn enqueue(&self, req: EnqueueRequest, now: SystemTime) -> Result<Ticket, QueueError> {
        let mut state = self.lock();
        state.next_id += 1;
        let id = state.next_id;
        let ticket = Ticket(id.to_string());
        state.items.insert(id, QueuedRequest::new(ticket.clone(), req, now));
        Ok(ticket)
    }

    fn lease(
        &self,
        handler: Option<&str>,
        now: SystemTime,
        lease_for: Duration,
    ) -> Result<Option<QueuedRequest>, QueueError> {
        let mut state = self.lock();
        let wanted = |r: &QueuedRequest| handler.is_none_or(|h| r.handler == h) && r.is_ready(now);
        for item in state.items.values_mut().filter(|r| wanted(r)) {
            if item.apply_lease(now, lease_for) {
                return Ok(Some(item.clone()));
            }
        }
        Ok(None)
    }

    fn ack(&self, ticket: &Ticket, result: Option<serde_json::Value>) -> Result<(), QueueError> {
        self.with_item(ticket, |r| r.apply_ack(result))
    }

    fn nack(
        &self,
        ticket: &Ticket,
        error: &str,
        now: SystemTime,
        retry_in: Duration,
    ) -> Result<TicketStatus, QueueError> {
        self.with_item(ticket, |r| r.apply_nack(error, now, retry_in))
    }

    fn release(&self, ticket: &Ticket) -> Result<(), QueueError> {
        self.with_item(ticket, QueuedRequest::apply_release)
    }

    fn get(&self, ticket: &Ticket) -> Result<Option<QueuedRequest>, QueueError> {
        let Ok(id) = parse_ticket(ticket) else { return Ok(None) };
        Ok(self.lock().items.get(&id).cloned())
    }

    fn list(&self, status: Option<TicketStatus>, limit: usize) -> Result<Vec<QueuedRequest>, QueueError> {
        let state = self.lock();
        let matches = |r: &&QueuedRequest| status.is_none_or(|s| r.status == s);
        Ok(state.items.values().filter(matches).take(limit).cloned().collect())
    }

    fn page(
        &self,
        status: Option<TicketStatus>,
        after: Option<&Ticket>,
        limit: usize,
    ) -> Result<Vec<QueuedRequest>, QueueError> {
        let from = after.map(parse_ticket).transpose()?.map_or(Bound::Unbounded, Bound::Excluded);
        let state = self.lock();
        let matches = |r: &&QueuedRequest| status.is_none_or(|s| r.status == s);
        Ok(state
            .items
            .range((from, Bound::Unbounded))
            .map(|(_, r)| r)
            .filter(matches)
            .take(limit)
            .cloned()
            .collect())
    }

    fn counts(&self) -> Result<QueueCounts, QueueError> {
        Ok(QueueCounts::tally(self.lock().items.values()))
    }

    fn purge(&self, status: TicketStatus) -> Result<usize, QueueError> {
        let mut state = self.lock();
        let before = state.items.len();
        state.items.retain(|_, r| r.status != status);
        Ok(before - state.items.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_conformance_suite() {
        super::super::queue_conformance::queue_conformance(&InMemoryQueue::new());
    }
}
