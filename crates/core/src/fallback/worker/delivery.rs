//! One pass of the worker: per handler, lease while the gate and the breaker allow, deliver,
//! and ack, nack or release; every queue call on tokio's blocking pool.

use std::future::Future;

use super::stop::Stop;
use super::{Handler, QueueWorker, WorkerPass};
use crate::circuit_breaker::{CircuitState, OwnedCircuitPermit};
use crate::fallback::queue::{QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus};
use crate::resource::Context;

impl QueueWorker {
    pub(super) async fn pass<F: Future<Output = ()>>(
        &self,
        stop: &mut Stop<'_, F>,
    ) -> Result<WorkerPass, QueueError> {
        let mut pass = WorkerPass::default();
        for (name, handler) in &self.handlers {
            if stop.requested() {
                break;
            }
            let reading = self.gate.check(handler.resource, &Context::new());
            if !reading.status.is_usable() {
                pass.gated += 1;
                tracing::debug!(handler = %name, status = %reading.status, "queue replay gated");
                continue;
            }
            self.drain(name, handler, &mut pass, stop).await?;
        }
        Ok(pass)
    }

    async fn drain<F: Future<Output = ()>>(
        &self,
        name: &str,
        handler: &Handler,
        pass: &mut WorkerPass,
        stop: &mut Stop<'_, F>,
    ) -> Result<(), QueueError> {
        for _ in 0..self.batch {
            if stop.requested() {
                break;
            }
            let Some((req, permit)) = self.admit(name, handler, pass).await? else { break };
            pass.delivered += 1;
            pass.redelivered += usize::from(req.attempts > 1);
            self.deliver(handler, req, permit, pass, stop).await?;
        }
        Ok(())
    }

    /// The next request for `name` and its breaker's permit, or `None` when nothing is ready or
    /// the breaker is open. A closed breaker is asked after the lease, so an empty queue costs
    /// it no call; an open one before, so that nothing is leased while it refuses.
    async fn admit(
        &self,
        name: &str,
        handler: &Handler,
        pass: &mut WorkerPass,
    ) -> Result<Option<(QueuedRequest, OwnedCircuitPermit)>, QueueError> {
        let open = |pass: &mut WorkerPass| {
            pass.breaker_open += 1;
            tracing::debug!(handler = %name, "queue replay held back: its breaker is open");
        };
        let closed = matches!(handler.breaker.state(), CircuitState::Closed | CircuitState::Disabled);
        let early = if closed { None } else { Some(handler.breaker.try_acquire_owned()) };
        if let Some(Err(_)) = early {
            open(pass);
            return Ok(None);
        }
        let (owned, now, lease_for) = (name.to_owned(), self.wall_now(), self.lease_for);
        let Some(req) = self.queue_call(move |q| q.lease(Some(&owned), now, lease_for)).await? else {
            if let Some(Ok(permit)) = early {
                permit.ignore();
            }
            return Ok(None);
        };
        match early.unwrap_or_else(|| handler.breaker.try_acquire_owned()) {
            Ok(permit) => Ok(Some((req, permit))),
            Err(_) => {
                let ticket = req.ticket.clone();
                self.queue_call(move |q| q.release(&ticket)).await?;
                open(pass);
                Ok(None)
            }
        }
    }

    async fn deliver<F: Future<Output = ()>>(
        &self,
        handler: &Handler,
        req: QueuedRequest,
        permit: OwnedCircuitPermit,
        pass: &mut WorkerPass,
        stop: &mut Stop<'_, F>,
    ) -> Result<(), QueueError> {
        let ctx = req
            .context
            .clone()
            .tag(Self::TICKET_TAG, req.ticket.to_string())
            .tag(Self::ATTEMPT_TAG, req.attempts.to_string());
        let work = (handler.run)(req.payload.clone(), ctx);
        match stop.finish_within(work, self.grace).await {
            Some(Ok(answer)) => {
                permit.success();
                self.acked(&req.ticket, answer, pass).await?;
            }
            Some(Err(error)) => {
                permit.failure();
                self.nacked(&req, error, pass).await?;
            }
            None => {
                permit.ignore();
                self.released(&req.ticket, pass).await?;
            }
        }
        self.changed.notify_waiters();
        Ok(())
    }

    async fn acked(
        &self,
        ticket: &Ticket,
        answer: serde_json::Value,
        pass: &mut WorkerPass,
    ) -> Result<(), QueueError> {
        let ticket = ticket.clone();
        self.queue_call(move |q| q.ack(&ticket, Some(answer))).await?;
        pass.succeeded += 1;
        metrics::counter!("elf_queue_replayed_total", "result" => "ok").increment(1);
        Ok(())
    }

    async fn nacked(
        &self,
        req: &QueuedRequest,
        error: String,
        pass: &mut WorkerPass,
    ) -> Result<(), QueueError> {
        let (ticket, now, wait) = (req.ticket.clone(), self.wall_now(), self.retry_delay(req.failures()));
        let status = {
            let error = error.clone();
            self.queue_call(move |q| q.nack(&ticket, &error, now, wait)).await?
        };
        pass.failed += 1;
        pass.dead_lettered += usize::from(status == TicketStatus::DeadLettered);
        metrics::counter!("elf_queue_replayed_total", "result" => "failed").increment(1);
        tracing::debug!(ticket = %req.ticket, error, ?status, retry_in = ?wait, "queued request failed");
        Ok(())
    }

    async fn released(&self, ticket: &Ticket, pass: &mut WorkerPass) -> Result<(), QueueError> {
        let owned = ticket.clone();
        self.queue_call(move |q| q.release(&owned)).await?;
        pass.released += 1;
        metrics::counter!("elf_queue_replayed_total", "result" => "released").increment(1);
        tracing::info!(%ticket, grace = ?self.grace, "stopping: delivery cancelled, request released unspent");
        Ok(())
    }

    /// Runs one queue call on tokio's blocking pool: backends may block on a disk or a socket.
    pub(super) async fn queue_call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn RequestQueue) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let queue = self.queue.clone();
        tokio::task::spawn_blocking(move || call(&*queue))
            .await
            .map_err(|e| QueueError::Backend(format!("queue call did not finish: {e}")))?
    }
}
