//! The request queue in Redis.
//!
//! Keys: `P:seq` (ticket counter), `P:req:ID` (the request as JSON), `P:all` and `P:open`
//! (sorted sets of IDs by age: every request, and those not yet done or dead-lettered),
//! `P:status:S` (the IDs in status `S`, by age: the counts and the pages of one status), and
//! `P:ver`, bumped by every change. Changes run as optimistic transactions watching `P:ver`,
//! so concurrent consumers never lease the same request twice; the transitions themselves are
//! the shared ones of [`QueuedRequest`]. A lease scans the open requests, which suits queues
//! of thousands, not millions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use elf_resilience_core::{
    EnqueueRequest, QueueCounts, QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus,
};
use redis::{Commands, Connection};

use super::{Conn, RedisStoreError};

const TICKET_PREFIX: &str = "rq-";

/// A [`RequestQueue`] in Redis.
///
/// Keys: `P:seq` (ticket counter), `P:req:ID` (the request as JSON), `P:all` and `P:open`
/// (sorted sets of IDs by age), `P:status:S` (the IDs in status `S`, for counts and pages), and
/// `P:ver`, bumped by every change; changes are optimistic
/// transactions watching `P:ver`, so concurrent consumers never lease the same request twice.
#[derive(Debug)]
pub struct RedisQueue {
    conn: Conn,
}

fn backend(e: redis::RedisError) -> QueueError {
    QueueError::Backend(super::describe(&e))
}

fn ser(e: serde_json::Error) -> QueueError {
    QueueError::Serialization(e.to_string())
}

/// The request stored as `text` under `id`; one that does not decode (written by another
/// version, or edited by hand) comes back dead-lettered with the reason and its text as the
/// payload, so it neither stops the queue nor is lost.
fn decode_stored(id: u64, text: String) -> QueuedRequest {
    let error = match serde_json::from_str(&text) {
        Ok(req) => return req,
        Err(e) => e,
    };
    tracing::warn!(ticket = %format!("{TICKET_PREFIX}{id}"), %error, "queue: stored request does not decode; dead-lettered");
    let handler = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("handler").and_then(|h| h.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    let ticket = Ticket(format!("{TICKET_PREFIX}{id}"));
    let mut req =
        QueuedRequest::new(ticket, EnqueueRequest::new(handler, serde_json::Value::String(text)), UNIX_EPOCH);
    req.status = TicketStatus::DeadLettered;
    req.last_error = Some(format!("undecodable: stored request does not decode: {error}"));
    req
}

fn id_of(ticket: &Ticket) -> Option<u64> {
    ticket.0.strip_prefix(TICKET_PREFIX)?.parse().ok()
}

impl RedisQueue {
    /// Connects to `url`; keys start with `prefix:`.
    pub fn open(url: &str, prefix: &str) -> Result<Self, RedisStoreError> {
        let queue = Self { conn: Conn::open(url, prefix)? };
        queue.index_statuses()?;
        Ok(queue)
    }

    fn status_key(&self, status: TicketStatus) -> String {
        self.conn.key(&format!("status:{}", status.as_str()))
    }

    /// Puts request `id` in the set of `status` and takes it out of the others, in `pipe`.
    fn index_into(&self, pipe: &mut redis::Pipeline, id: u64, status: TicketStatus) {
        for other in TicketStatus::ALL {
            if other == status {
                pipe.zadd(self.status_key(other), id, id).ignore();
            } else {
                pipe.zrem(self.status_key(other), id).ignore();
            }
        }
    }

    /// Builds the per-status sets once for requests stored before they existed (marked done by
    /// `P:indexed`), watching `P:ver` like every change, so a concurrent writer is not lost.
    fn index_statuses(&self) -> redis::RedisResult<()> {
        let mut c = self.conn.get();
        let (ver, marker) = (self.conn.key("ver"), self.conn.key("indexed"));
        loop {
            redis::cmd("WATCH").arg(&ver).arg(&marker).exec(&mut c)?;
            if c.exists(&marker)? {
                return redis::cmd("UNWATCH").exec(&mut c);
            }
            let ids: Vec<u64> = c.zrange(self.conn.key("all"), 0, -1)?;
            let mut by_status: Vec<(TicketStatus, Vec<(u64, u64)>)> =
                TicketStatus::ALL.iter().map(|&s| (s, Vec::new())).collect();
            for chunk in ids.chunks(10_000) {
                let keys: Vec<String> = chunk.iter().map(|&id| self.req_key(id)).collect();
                let texts: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(&mut c)?;
                for (&id, text) in chunk.iter().zip(texts) {
                    let Some(text) = text else { continue };
                    let status = decode_stored(id, text).status;
                    if let Some((_, members)) = by_status.iter_mut().find(|(s, _)| *s == status) {
                        members.push((id, id));
                    }
                }
            }
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (status, members) in &by_status {
                pipe.del(self.status_key(*status)).ignore();
                for chunk in members.chunks(10_000) {
                    pipe.zadd_multiple(self.status_key(*status), chunk).ignore();
                }
            }
            pipe.set(&marker, 1).ignore().incr(&ver, 1).ignore();
            let done: Option<()> = pipe.query(&mut c)?;
            if done.is_some() {
                tracing::debug!(requests = ids.len(), "queue: indexed by status");
                return Ok(());
            }
        }
    }

    fn req_key(&self, id: u64) -> String {
        self.conn.key(&format!("req:{id}"))
    }

    /// Loads the requests with the given IDs, skipping vanished ones.
    fn load(&self, c: &mut Connection, ids: &[u64]) -> Result<Vec<QueuedRequest>, QueueError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|&id| self.req_key(id)).collect();
        let texts: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(c).map_err(backend)?;
        let stored = ids.iter().zip(texts).filter_map(|(&id, t)| Some((id, t?)));
        Ok(stored.map(|(id, text)| decode_stored(id, text)).collect())
    }

    /// Runs `decide` on a consistent snapshot and commits its writes atomically, retrying when
    /// another client changed the queue meanwhile.
    fn transact<T>(
        &self,
        mut decide: impl FnMut(&mut Connection) -> Result<(T, Vec<QueuedRequest>), QueueError>,
    ) -> Result<T, QueueError> {
        let mut c = self.conn.get();
        let ver = self.conn.key("ver");
        loop {
            redis::cmd("WATCH").arg(&ver).exec(&mut c).map_err(backend)?;
            let (out, writes) = decide(&mut c)?;
            let mut pipe = redis::pipe();
            pipe.atomic();
            for r in &writes {
                self.write_into(&mut pipe, r)?;
            }
            pipe.incr(&ver, 1).ignore();
            let done: Option<()> = pipe.query(&mut c).map_err(backend)?;
            if done.is_some() {
                return Ok(out);
            }
        }
    }

    /// Makes every waiting request ready at `now` and revives dead letters; returns how many
    /// requests changed (as `SqliteQueue::replay_all`).
    pub fn replay_all(&self, now: SystemTime) -> Result<usize, QueueError> {
        self.transact(|c| {
            let ids: Vec<u64> = c.zrange(self.conn.key("all"), 0, -1).map_err(backend)?;
            let mut writes = Vec::new();
            for mut r in self.load(c, &ids)? {
                let delayed = r.status == TicketStatus::Pending && r.not_before > now;
                let dead = r.status == TicketStatus::DeadLettered;
                if dead {
                    (r.status, r.attempts, r.lease_until) = (TicketStatus::Pending, 0, None);
                    (r.expired_leases, r.released) = (0, 0);
                }
                if delayed || dead {
                    r.not_before = now;
                    writes.push(r);
                }
            }
            Ok((writes.len(), writes))
        })
    }

    /// Deletes the request `ticket`, whatever its state; returns whether it was there.
    pub fn remove(&self, ticket: &Ticket) -> Result<bool, QueueError> {
        let Some(id) = id_of(ticket) else { return Ok(false) };
        let mut c = self.conn.get();
        let mut pipe = redis::pipe();
        pipe.atomic().del(self.req_key(id));
        pipe.zrem(self.conn.key("all"), id).ignore().zrem(self.conn.key("open"), id).ignore();
        for status in TicketStatus::ALL {
            pipe.zrem(self.status_key(status), id).ignore();
        }
        pipe.incr(self.conn.key("ver"), 1).ignore();
        let (deleted,): (u64,) = pipe.query(&mut c).map_err(backend)?;
        Ok(deleted > 0)
    }

    /// Makes the request `ticket` pending again with fresh attempts, ready at `now`; returns
    /// whether it was there. A request that no longer decodes is refused: remove it instead.
    pub fn requeue(&self, ticket: &Ticket, now: SystemTime) -> Result<bool, QueueError> {
        let Some(id) = id_of(ticket) else { return Ok(false) };
        self.transact(|c| {
            let text: Option<String> = c.get(self.req_key(id)).map_err(backend)?;
            let Some(text) = text else { return Ok((false, Vec::new())) };
            let mut r: QueuedRequest = serde_json::from_str(&text).map_err(|e| {
                QueueError::Backend(format!("{ticket} does not decode ({e}); remove it instead"))
            })?;
            (r.status, r.attempts, r.lease_until, r.not_before) = (TicketStatus::Pending, 0, None, now);
            (r.expired_leases, r.released) = (0, 0);
            Ok((true, vec![r]))
        })
    }

    fn write_into(&self, pipe: &mut redis::Pipeline, r: &QueuedRequest) -> Result<(), QueueError> {
        let id = id_of(&r.ticket).ok_or_else(|| QueueError::UnknownTicket(r.ticket.clone()))?;
        pipe.set(self.req_key(id), serde_json::to_string(r).map_err(ser)?).ignore();
        if r.status.is_final() {
            pipe.zrem(self.conn.key("open"), id).ignore();
        } else {
            pipe.zadd(self.conn.key("open"), id, id).ignore(); // a revived dead letter is open again
        }
        self.index_into(pipe, id, r.status);
        Ok(())
    }

    fn known(&self, c: &mut Connection, ticket: &Ticket) -> Result<QueuedRequest, QueueError> {
        let unknown = || QueueError::UnknownTicket(ticket.clone());
        let id = id_of(ticket).ok_or_else(unknown)?;
        self.load(c, &[id])?.pop().ok_or_else(unknown)
    }
}

impl RequestQueue for RedisQueue {
    fn enqueue(&self, req: EnqueueRequest, now: SystemTime) -> Result<Ticket, QueueError> {
        let mut c = self.conn.get();
        let id: u64 = c.incr(self.conn.key("seq"), 1).map_err(backend)?;
        let ticket = Ticket(format!("{TICKET_PREFIX}{id}"));
        let r = QueuedRequest::new(ticket.clone(), req, now);
        let mut pipe = redis::pipe();
        pipe.atomic().set(self.req_key(id), serde_json::to_string(&r).map_err(ser)?).ignore();
        pipe.zadd(self.conn.key("all"), id, id).ignore().zadd(self.conn.key("open"), id, id).ignore();
        pipe.zadd(self.status_key(TicketStatus::Pending), id, id).ignore();
        pipe.incr(self.conn.key("ver"), 1).ignore();
        let () = pipe.query(&mut c).map_err(backend)?;
        Ok(ticket)
    }

    fn lease(
        &self,
        handler: Option<&str>,
        now: SystemTime,
        lease_for: Duration,
    ) -> Result<Option<QueuedRequest>, QueueError> {
        self.transact(|c| {
            let ids: Vec<u64> = c.zrange(self.conn.key("open"), 0, -1).map_err(backend)?;
            let mut writes = Vec::new();
            for mut r in self.load(c, &ids)? {
                if r.status.is_final() {
                    // Undecodable, dead-lettered by `load`: out of the open set, its text kept.
                    let id = id_of(&r.ticket).ok_or_else(|| QueueError::UnknownTicket(r.ticket.clone()))?;
                    let () = c.zrem(self.conn.key("open"), id).map_err(backend)?;
                    let mut pipe = redis::pipe();
                    self.index_into(&mut pipe, id, r.status);
                    let () = pipe.query(c).map_err(backend)?;
                    continue;
                }
                if !r.is_ready(now) || handler.is_some_and(|h| h != r.handler) {
                    continue;
                }
                let granted = r.apply_lease(now, lease_for);
                writes.push(r.clone());
                if granted {
                    return Ok((Some(r), writes));
                }
            }
            Ok((None, writes))
        })
    }

    fn ack(&self, ticket: &Ticket, result: Option<serde_json::Value>) -> Result<(), QueueError> {
        self.transact(|c| {
            let mut r = self.known(c, ticket)?;
            r.apply_ack(result.clone());
            Ok(((), vec![r]))
        })
    }

    fn nack(
        &self,
        ticket: &Ticket,
        error: &str,
        now: SystemTime,
        retry_in: Duration,
    ) -> Result<TicketStatus, QueueError> {
        self.transact(|c| {
            let mut r = self.known(c, ticket)?;
            let status = r.apply_nack(error, now, retry_in);
            Ok((status, vec![r]))
        })
    }

    fn release(&self, ticket: &Ticket) -> Result<(), QueueError> {
        self.transact(|c| {
            let mut r = self.known(c, ticket)?;
            r.apply_release();
            Ok(((), vec![r]))
        })
    }

    fn get(&self, ticket: &Ticket) -> Result<Option<QueuedRequest>, QueueError> {
        let Some(id) = id_of(ticket) else { return Ok(None) };
        Ok(self.load(&mut self.conn.get(), &[id])?.pop())
    }

    fn list(&self, status: Option<TicketStatus>, limit: usize) -> Result<Vec<QueuedRequest>, QueueError> {
        self.page(status, None, limit)
    }

    fn page(
        &self,
        status: Option<TicketStatus>,
        after: Option<&Ticket>,
        limit: usize,
    ) -> Result<Vec<QueuedRequest>, QueueError> {
        let after = match after {
            Some(t) => id_of(t).ok_or_else(|| QueueError::UnknownTicket(t.clone()))?,
            None => 0,
        };
        let key = status.map_or_else(|| self.conn.key("all"), |s| self.status_key(s));
        let count = isize::try_from(limit).unwrap_or(isize::MAX);
        let mut c = self.conn.get();
        let ids: Vec<u64> =
            c.zrangebyscore_limit(&key, format!("({after}"), "+inf", 0, count).map_err(backend)?;
        self.load(&mut c, &ids)
    }

    fn counts(&self) -> Result<QueueCounts, QueueError> {
        let mut pipe = redis::pipe();
        for status in TicketStatus::ALL {
            pipe.zcard(self.status_key(status));
        }
        let sizes: Vec<usize> = pipe.query(&mut self.conn.get()).map_err(backend)?;
        let mut counts = QueueCounts::default();
        for (status, n) in TicketStatus::ALL.into_iter().zip(sizes) {
            counts.set(status, n);
        }
        Ok(counts)
    }

    fn purge(&self, status: TicketStatus) -> Result<usize, QueueError> {
        let mut c = self.conn.get();
        let doomed: Vec<u64> = c.zrange(self.status_key(status), 0, -1).map_err(backend)?;
        if doomed.is_empty() {
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for &id in &doomed {
            pipe.del(self.req_key(id)).ignore();
            pipe.zrem(self.conn.key("all"), id).ignore().zrem(self.conn.key("open"), id).ignore();
            pipe.zrem(self.status_key(status), id).ignore();
        }
        pipe.incr(self.conn.key("ver"), 1).ignore();
        let () = pipe.query(&mut c).map_err(backend)?;
        Ok(doomed.len())
    }
}
