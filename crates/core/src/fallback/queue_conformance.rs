//! The behaviour every [`RequestQueue`] backend must show, as one reusable test.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::queue::{EnqueueRequest, QueueError, RequestQueue, Ticket, TicketStatus};
use super::queue_page::QueueCounts;
use crate::resource::{Context, Priority};

const SEC: Duration = Duration::from_secs(1);

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Runs the shared queue test suite against `q`, which must start empty.
///
/// Backends call it from their own tests, so in-memory, SQLite and Redis queues are held to
/// the same contract. Panics (with the failed expectation) when the backend deviates.
///
/// ```
/// elf_resilience_core::queue_conformance(&elf_resilience_core::InMemoryQueue::new());
/// ```
pub fn queue_conformance(q: &dyn RequestQueue) {
    enqueue_then_get(q);
    lease_is_fifo_and_filtered(q);
    ack_finishes_and_is_idempotent(q);
    nack_delays_then_dead_letters(q);
    expired_lease_is_redelivered(q);
    expired_leases_dead_letter_poison(q);
    release_returns_the_lease_unspent(q);
    unknown_tickets_are_reported(q);
    purge_removes_only_the_status(q);
    counts_follow_every_change(q);
    pages_follow_the_cursor(q);
}

fn enqueue_then_get(q: &dyn RequestQueue) {
    let ctx = Context::new().team("sales").priority(Priority::High).tag("k", "v");
    let req =
        EnqueueRequest::new("c-get", json!({"prompt": "hi", "n": 3})).context(ctx.clone()).max_attempts(4);
    let a = q.enqueue(req.clone(), t0()).expect("enqueue");
    let b = q.enqueue(req, t0()).expect("enqueue");
    assert_ne!(a, b, "tickets must be unique");
    let got = q.get(&a).expect("get").expect("enqueued request must be found");
    assert_eq!(got.ticket, a);
    assert_eq!(got.handler, "c-get");
    assert_eq!(got.payload, json!({"prompt": "hi", "n": 3}));
    assert_eq!(got.context, ctx);
    assert_eq!((got.status, got.attempts, got.max_attempts), (TicketStatus::Pending, 0, 4));
    assert_eq!(got.enqueued_at, t0());
    assert_eq!(q.status(&b).expect("status"), Some(TicketStatus::Pending));
    drain(q, "c-get");
}

fn drain(q: &dyn RequestQueue, handler: &str) {
    while let Some(r) = q.lease(Some(handler), t0(), SEC).expect("lease") {
        q.ack(&r.ticket, None).expect("ack");
    }
}

fn lease_is_fifo_and_filtered(q: &dyn RequestQueue) {
    let first = q.enqueue(EnqueueRequest::new("c-fifo", json!(1)), t0()).expect("enqueue");
    let other = q.enqueue(EnqueueRequest::new("c-other", json!(0)), t0()).expect("enqueue");
    let second = q.enqueue(EnqueueRequest::new("c-fifo", json!(2)), t0()).expect("enqueue");
    let l1 = q.lease(Some("c-fifo"), t0(), 30 * SEC).expect("lease").expect("ready");
    assert_eq!((l1.ticket.clone(), l1.attempts, l1.status), (first, 1, TicketStatus::Leased));
    assert_eq!(l1.lease_until, Some(t0() + 30 * SEC));
    let l2 = q.lease(Some("c-fifo"), t0(), 30 * SEC).expect("lease").expect("ready");
    assert_eq!(l2.ticket, second, "lease must hand out the oldest ready request");
    assert!(q.lease(Some("c-fifo"), t0(), 30 * SEC).expect("lease").is_none());
    let any = q.lease(None, t0(), 30 * SEC).expect("lease").expect("c-other is ready");
    assert_eq!(any.ticket, other);
    for t in [&l1.ticket, &l2.ticket, &other] {
        q.ack(t, None).expect("ack");
    }
}

fn ack_finishes_and_is_idempotent(q: &dyn RequestQueue) {
    let t = q.enqueue(EnqueueRequest::new("c-ack", json!("x")), t0()).expect("enqueue");
    q.lease(Some("c-ack"), t0(), SEC).expect("lease").expect("ready");
    q.ack(&t, Some(json!({"answer": 42}))).expect("ack");
    q.ack(&t, Some(json!("ignored"))).expect("second ack is a no-op");
    let done = q.get(&t).expect("get").expect("present");
    assert_eq!(done.status, TicketStatus::Done);
    assert_eq!(done.result, Some(json!({"answer": 42})));
    assert!(q.lease(Some("c-ack"), t0() + 3600 * SEC, SEC).expect("lease").is_none());
}

fn nack_delays_then_dead_letters(q: &dyn RequestQueue) {
    let req = EnqueueRequest::new("c-nack", json!(null)).max_attempts(2);
    let t = q.enqueue(req, t0()).expect("enqueue");
    q.lease(Some("c-nack"), t0(), SEC).expect("lease").expect("ready");
    let s = q.nack(&t, "boom 1", t0(), 10 * SEC).expect("nack");
    assert_eq!(s, TicketStatus::Pending);
    assert!(q.lease(Some("c-nack"), t0() + 9 * SEC, SEC).expect("lease").is_none(), "nack delay");
    let again = q.lease(Some("c-nack"), t0() + 10 * SEC, SEC).expect("lease").expect("ready");
    assert_eq!(again.attempts, 2);
    assert_eq!(again.last_error.as_deref(), Some("boom 1"));
    let s = q.nack(&t, "boom 2", t0() + 10 * SEC, SEC).expect("nack");
    assert_eq!(s, TicketStatus::DeadLettered);
    let dead = q.list(Some(TicketStatus::DeadLettered), 100).expect("list");
    assert!(dead.iter().any(|r| r.ticket == t && r.last_error.as_deref() == Some("boom 2")));
    assert!(q.lease(Some("c-nack"), t0() + 3600 * SEC, SEC).expect("lease").is_none());
}

fn expired_lease_is_redelivered(q: &dyn RequestQueue) {
    let req = EnqueueRequest::new("c-expire", json!(5)).max_attempts(2);
    let t = q.enqueue(req, t0()).expect("enqueue");
    q.lease(Some("c-expire"), t0(), 10 * SEC).expect("lease").expect("ready");
    assert!(q.lease(Some("c-expire"), t0() + 5 * SEC, SEC).expect("lease").is_none());
    let again = q.lease(Some("c-expire"), t0() + 10 * SEC, 10 * SEC).expect("lease");
    assert_eq!(again.map(|r| (r.ticket, r.attempts)), Some((t.clone(), 2)), "redelivery");
    for (n, at) in [(3, 20), (4, 30), (5, 40)] {
        let again = q.lease(Some("c-expire"), t0() + at * SEC, 10 * SEC).expect("lease");
        let again = again.expect("an expired lease is not a failed attempt: redelivered");
        assert_eq!((again.attempts, again.expired_leases, again.failures()), (n, n - 1, 1));
    }
    let s = q.nack(&t, "boom", t0() + 41 * SEC, SEC).expect("nack");
    assert_eq!(s, TicketStatus::Pending, "one failed attempt of two, whatever the expired leases");
    let last = q.lease(Some("c-expire"), t0() + 42 * SEC, SEC).expect("lease").expect("ready");
    assert_eq!(q.nack(&last.ticket, "boom", t0() + 42 * SEC, SEC).expect("nack"), TicketStatus::DeadLettered);
}

fn expired_leases_dead_letter_poison(q: &dyn RequestQueue) {
    let req = EnqueueRequest::new("c-poison", json!(6)).max_attempts(1).max_expired_leases(3);
    let t = q.enqueue(req, t0()).expect("enqueue");
    for at in [0, 10, 20] {
        let r = q.lease(Some("c-poison"), t0() + at * SEC, 10 * SEC).expect("lease");
        assert!(r.is_some(), "delivery at {at}s");
    }
    let none = q.lease(Some("c-poison"), t0() + 30 * SEC, 10 * SEC).expect("lease");
    assert!(none.is_none(), "the third expired lease dead-letters a poison request");
    let dead = q.get(&t).expect("get").expect("present");
    assert_eq!((dead.status, dead.expired_leases), (TicketStatus::DeadLettered, 3));
    let why = dead.last_error.unwrap_or_default();
    assert!(why.contains("died 3 times"), "the reason says why: {why}");
}

fn release_returns_the_lease_unspent(q: &dyn RequestQueue) {
    let req = EnqueueRequest::new("c-release", json!(7)).max_attempts(1).max_expired_leases(1);
    let t = q.enqueue(req, t0()).expect("enqueue");
    for n in 1..=3 {
        let r = q.lease(Some("c-release"), t0(), 60 * SEC).expect("lease").expect("ready at once");
        assert_eq!((r.attempts, r.failures()), (n, 1), "the delivery number counts every delivery");
        q.release(&t).expect("release");
        let back = q.get(&t).expect("get").expect("present");
        assert_eq!((back.status, back.lease_until, back.released), (TicketStatus::Pending, None, n));
        assert_eq!(back.failures(), 0, "a released delivery is not a failed attempt");
    }
    q.release(&t).expect("releasing a pending request changes nothing");
    assert_eq!(q.get(&t).expect("get").map(|r| r.released), Some(3));
    let r = q.lease(Some("c-release"), t0(), 60 * SEC).expect("lease").expect("ready");
    assert_eq!(q.nack(&r.ticket, "boom", t0(), SEC).expect("nack"), TicketStatus::DeadLettered);
    assert!(matches!(q.release(&Ticket::from("no-such-ticket")), Err(QueueError::UnknownTicket(_))));
}

fn unknown_tickets_are_reported(q: &dyn RequestQueue) {
    let ghost = Ticket::from("no-such-ticket");
    assert_eq!(q.get(&ghost).expect("get"), None);
    assert_eq!(q.status(&ghost).expect("status"), None);
    assert!(matches!(q.ack(&ghost, None), Err(QueueError::UnknownTicket(_))));
    let nack = q.nack(&ghost, "e", t0(), SEC);
    assert!(matches!(nack, Err(QueueError::UnknownTicket(_))));
}

fn purge_removes_only_the_status(q: &dyn RequestQueue) {
    let pending = q.enqueue(EnqueueRequest::new("c-purge", json!(1)), t0()).expect("enqueue");
    let done_before = q.list(Some(TicketStatus::Done), usize::MAX).expect("list").len();
    assert!(done_before >= 3, "earlier steps left done requests");
    assert_eq!(q.purge(TicketStatus::Done).expect("purge"), done_before);
    assert!(q.list(Some(TicketStatus::Done), usize::MAX).expect("list").is_empty());
    assert_eq!(q.status(&pending).expect("status"), Some(TicketStatus::Pending));
    assert_eq!(q.list(None, 1).expect("list").len(), 1, "limit applies");
}

/// The counts match a full listing after enqueue, lease, ack, nack to dead letter and purge.
fn counts_follow_every_change(q: &dyn RequestQueue) {
    let listed = || QueueCounts::tally(&q.list(None, usize::MAX).expect("list"));
    assert_eq!(q.counts().expect("counts"), listed(), "counts before");
    let before = q.counts().expect("counts");
    let a = q.enqueue(EnqueueRequest::new("c-count", json!(1)).max_attempts(1), t0()).expect("enqueue");
    let b = q.enqueue(EnqueueRequest::new("c-count", json!(2)), t0()).expect("enqueue");
    q.enqueue(EnqueueRequest::new("c-count", json!(3)), t0()).expect("enqueue");
    let after_enqueue = q.counts().expect("counts");
    assert_eq!(after_enqueue.pending, before.pending + 3, "enqueue counts as pending");
    q.lease(Some("c-count"), t0(), SEC).expect("lease").expect("ready");
    q.lease(Some("c-count"), t0(), SEC).expect("lease").expect("ready");
    assert_eq!(q.counts().expect("counts").leased, before.leased + 2, "lease counts as leased");
    assert_eq!(q.nack(&a, "boom", t0(), SEC).expect("nack"), TicketStatus::DeadLettered);
    q.ack(&b, None).expect("ack");
    let now = q.counts().expect("counts");
    assert_eq!(now, listed(), "counts after lease, ack and nack");
    assert_eq!(now.dead_lettered, before.dead_lettered + 1);
    assert_eq!(now.done, before.done + 1);
    assert_eq!(now.total(), before.total() + 3);
    q.purge(TicketStatus::Done).expect("purge");
    assert_eq!(q.counts().expect("counts").done, 0, "purge empties the count");
    assert_eq!(q.counts().expect("counts"), listed(), "counts after purge");
}

/// Pages of a status, and of everything, walk the queue oldest first without gaps or repeats.
fn pages_follow_the_cursor(q: &dyn RequestQueue) {
    let mut mine = Vec::new();
    for n in 0..7 {
        mine.push(q.enqueue(EnqueueRequest::new("c-page", json!(n)), t0()).expect("enqueue"));
    }
    q.lease(Some("c-page"), t0(), 3600 * SEC).expect("lease").expect("ready");
    let all: Vec<Ticket> = q.list(None, usize::MAX).expect("list").into_iter().map(|r| r.ticket).collect();
    assert_eq!(walk(q, None, 3), all, "pages of everything, 3 at a time");
    let pending: Vec<Ticket> = q
        .list(Some(TicketStatus::Pending), usize::MAX)
        .expect("list")
        .into_iter()
        .map(|r| r.ticket)
        .collect();
    assert!(pending.ends_with(&mine[1..]), "the leased one is not pending");
    assert_eq!(walk(q, Some(TicketStatus::Pending), 2), pending, "pages of one status, 2 at a time");
    let first = q.page(Some(TicketStatus::Pending), Some(&mine[2]), 2).expect("page");
    let got: Vec<&Ticket> = first.iter().map(|r| &r.ticket).collect();
    assert_eq!(got, [&mine[3], &mine[4]], "a page starts after its cursor");
    let leased = q.page(Some(TicketStatus::Leased), Some(&mine[0]), 10).expect("page");
    assert!(leased.iter().all(|r| r.ticket != mine[0]), "the cursor itself is not on the page");
    let tail = q.page(None, all.last(), 10).expect("page");
    assert!(tail.is_empty(), "nothing after the newest");
    let gone = q.enqueue(EnqueueRequest::new("c-gone", json!(0)), t0()).expect("enqueue");
    let next = q.enqueue(EnqueueRequest::new("c-gone", json!(1)), t0()).expect("enqueue");
    q.lease(Some("c-gone"), t0(), SEC).expect("lease").expect("ready");
    q.ack(&gone, None).expect("ack");
    q.purge(TicketStatus::Done).expect("purge");
    let resumed = q.page(None, Some(&gone), 1).expect("a purged cursor still pages");
    assert_eq!(resumed.first().map(|r| &r.ticket), Some(&next), "paging resumes after a purged cursor");
    let bad = q.page(None, Some(&Ticket::from("no-such-ticket")), 10);
    assert!(matches!(bad, Err(QueueError::UnknownTicket(_))), "a cursor that is no ticket: {bad:?}");
}

fn walk(q: &dyn RequestQueue, status: Option<TicketStatus>, limit: usize) -> Vec<Ticket> {
    let mut seen: Vec<Ticket> = Vec::new();
    loop {
        let page = q.page(status, seen.last(), limit).expect("page");
        assert!(page.len() <= limit, "a page holds at most `limit`");
        let done = page.len() < limit;
        seen.extend(page.into_iter().map(|r| r.ticket));
        if done {
            return seen;
        }
    }
}
