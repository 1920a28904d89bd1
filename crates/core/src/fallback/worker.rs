//! [`QueueWorker`]: replays queued requests through handlers registered by name.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Notify;

use super::gate::ResourceGate;
use super::queue::{QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus};
use crate::clock::{SharedClock, SystemClock};
use crate::resource::{Context, ResourceType};

type HandlerFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, String>> + Send>>;
type HandlerFn = Arc<dyn Fn(serde_json::Value, Context) -> HandlerFuture + Send + Sync>;

struct Handler {
    resource: ResourceType,
    run: HandlerFn,
}

/// How one pass of [`QueueWorker::run_once`] went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WorkerPass {
    /// Requests handed to a handler.
    pub delivered: usize,
    /// Of those, how many were redeliveries (attempt > 1).
    pub redelivered: usize,
    /// Handler successes (acked).
    pub succeeded: usize,
    /// Handler failures (nacked).
    pub failed: usize,
    /// Failures that dead-lettered the request.
    pub dead_lettered: usize,
    /// Handlers skipped because the gate said their resource is not usable.
    pub gated: usize,
}

/// How a ticket ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketResult {
    /// The handler succeeded with this answer.
    Done(Option<serde_json::Value>),
    /// Every attempt failed; the last error.
    DeadLettered(Option<String>),
}

/// Replays requests queued by `QueueRequest` once their resource is usable again.
///
/// Delivery is at least once: a request is leased, handed to the handler registered under its
/// name, then acked with the handler's answer or nacked (retried after `retry_in`, dead-lettered
/// after its attempts). A worker that dies mid-request leaves a lease that expires after
/// `lease_for`, and the request is delivered again (counted in its attempts).
///
/// ```
/// use elf_resilience_core::{EnqueueRequest, InMemoryQueue, QueueWorker, RequestQueue, ResourceType, StaticGate, TicketResult};
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let queue = Arc::new(InMemoryQueue::new());
/// let worker = QueueWorker::new(queue.clone(), Arc::new(StaticGate::new()))
///     .register_typed("double", ResourceType::Cpu, |n: u32, _ctx| async move { Ok::<_, String>(n * 2) });
/// let ticket = queue.enqueue(EnqueueRequest::new("double", serde_json::json!(21)), std::time::SystemTime::UNIX_EPOCH).unwrap();
/// let pass = worker.run_once().await.unwrap();
/// assert_eq!(pass.succeeded, 1);
/// assert_eq!(worker.wait_for(&ticket).await.unwrap(), TicketResult::Done(Some(serde_json::json!(42))));
/// # });
/// ```
pub struct QueueWorker {
    queue: Arc<dyn RequestQueue>,
    gate: Arc<dyn ResourceGate>,
    handlers: BTreeMap<String, Handler>,
    clock: SharedClock,
    wall_anchor: SystemTime,
    lease_for: Duration,
    retry_in: Duration,
    poll: Duration,
    batch: usize,
    changed: Arc<Notify>,
}

impl fmt::Debug for QueueWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueWorker")
            .field("queue", &self.queue)
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .field("lease_for", &self.lease_for)
            .finish()
    }
}

impl QueueWorker {
    /// The context tag a handler finds its request's ticket under: a key that stays the same
    /// across redeliveries, so a receiver can drop the duplicates at-least-once delivery makes.
    pub const TICKET_TAG: &'static str = "elf.ticket";
    /// The context tag holding which delivery attempt this is (`1` the first time).
    pub const ATTEMPT_TAG: &'static str = "elf.attempt";

    /// A worker over `queue`, asking `gate` before replaying.
    ///
    /// # Default
    ///
    /// Leases of 60 s, retry 5 s after a failure, status polled every 500 ms while waiting for a
    /// ticket, up to 100 requests per handler per pass, the [`SystemClock`].
    pub fn new(queue: Arc<dyn RequestQueue>, gate: Arc<dyn ResourceGate>) -> Self {
        let clock = SystemClock::shared();
        Self {
            queue,
            gate,
            handlers: BTreeMap::new(),
            wall_anchor: clock.wall() - clock.now(),
            clock,
            lease_for: Duration::from_secs(60),
            retry_in: Duration::from_secs(5),
            poll: Duration::from_millis(500),
            batch: 100,
            changed: Arc::new(Notify::new()),
        }
    }

    /// The clock for leases and delays (use `TokioClock` under paused time).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.wall_anchor = clock.wall() - clock.now();
        self.clock = clock;
        self
    }

    /// How long a delivery may take before the request is handed out again.
    pub fn lease_for(mut self, d: Duration) -> Self {
        self.lease_for = d;
        self
    }

    /// How long a failed request waits before its next delivery.
    pub fn retry_in(mut self, d: Duration) -> Self {
        self.retry_in = d;
        self
    }

    /// How often [`wait_for`](Self::wait_for) re-reads a ticket written by another process.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll = d.max(Duration::from_millis(1));
        self
    }

    /// Registers the handler for requests queued under `name`, replayed while `resource` is
    /// usable. The handler gets the JSON payload and the original context, tagged with the
    /// ticket ([`TICKET_TAG`](Self::TICKET_TAG), an idempotency key) and the attempt number
    /// ([`ATTEMPT_TAG`](Self::ATTEMPT_TAG)).
    pub fn register<F, Fut>(mut self, name: impl Into<String>, resource: ResourceType, handler: F) -> Self
    where
        F: Fn(serde_json::Value, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<serde_json::Value, String>> + Send + 'static,
    {
        let run: HandlerFn = Arc::new(move |payload, ctx| Box::pin(handler(payload, ctx)));
        self.handlers.insert(name.into(), Handler { resource, run });
        self
    }

    /// Registers a handler over typed requests and answers (serde); a payload that does not
    /// deserialize counts as a failed delivery.
    pub fn register_typed<Req, Resp, Err, F, Fut>(
        self,
        name: impl Into<String>,
        resource: ResourceType,
        f: F,
    ) -> Self
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: Serialize + 'static,
        Err: fmt::Display + 'static,
        F: Fn(Req, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, Err>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.register(name, resource, move |payload, ctx| {
            let f = f.clone();
            async move {
                let req: Req = serde_json::from_value(payload).map_err(|e| format!("bad payload: {e}"))?;
                let resp = f(req, ctx).await.map_err(|e| e.to_string())?;
                serde_json::to_value(resp).map_err(|e| format!("bad answer: {e}"))
            }
        })
    }

    fn wall_now(&self) -> SystemTime {
        self.wall_anchor + self.clock.now()
    }

    /// Replays what is ready now, handler by handler, for every handler whose resource the gate
    /// reports usable.
    pub async fn run_once(&self) -> Result<WorkerPass, QueueError> {
        let mut pass = WorkerPass::default();
        for (name, handler) in &self.handlers {
            let reading = self.gate.check(handler.resource, &Context::new());
            if !reading.status.is_usable() {
                pass.gated += 1;
                tracing::debug!(handler = %name, status = %reading.status, "queue replay gated");
                continue;
            }
            self.drain(name, handler, &mut pass).await?;
        }
        Ok(pass)
    }

    async fn drain(&self, name: &str, handler: &Handler, pass: &mut WorkerPass) -> Result<(), QueueError> {
        for _ in 0..self.batch {
            let Some(req) = self.queue.lease(Some(name), self.wall_now(), self.lease_for)? else {
                break;
            };
            pass.delivered += 1;
            pass.redelivered += usize::from(req.attempts > 1);
            self.deliver(handler, req, pass).await?;
        }
        Ok(())
    }

    async fn deliver(
        &self,
        handler: &Handler,
        req: QueuedRequest,
        pass: &mut WorkerPass,
    ) -> Result<(), QueueError> {
        let ctx = req
            .context
            .tag(Self::TICKET_TAG, req.ticket.to_string())
            .tag(Self::ATTEMPT_TAG, req.attempts.to_string());
        let result = (handler.run)(req.payload, ctx).await;
        match result {
            Ok(answer) => {
                self.queue.ack(&req.ticket, Some(answer))?;
                pass.succeeded += 1;
                metrics::counter!("elf_queue_replayed_total", "result" => "ok").increment(1);
            }
            Err(error) => {
                let status = self.queue.nack(&req.ticket, &error, self.wall_now(), self.retry_in)?;
                pass.failed += 1;
                pass.dead_lettered += usize::from(status == TicketStatus::DeadLettered);
                metrics::counter!("elf_queue_replayed_total", "result" => "failed").increment(1);
                tracing::debug!(ticket = %req.ticket, error, ?status, "queued request failed");
            }
        }
        self.changed.notify_waiters();
        Ok(())
    }

    /// Runs passes every `interval` until `shutdown` completes.
    pub async fn run(
        &self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), QueueError> {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            self.run_once().await?;
            if tokio::time::timeout(interval, &mut shutdown).await.is_ok() {
                return Ok(());
            }
        }
    }

    /// The status of a ticket.
    pub fn status(&self, ticket: &Ticket) -> Result<Option<TicketStatus>, QueueError> {
        self.queue.status(ticket)
    }

    /// Waits until `ticket` is done or dead-lettered: woken at once by this worker's passes, and
    /// re-reading the queue every poll interval for work done elsewhere.
    pub async fn wait_for(&self, ticket: &Ticket) -> Result<TicketResult, QueueError> {
        loop {
            let notified = self.changed.notified();
            let req = self.queue.get(ticket)?.ok_or_else(|| QueueError::UnknownTicket(ticket.clone()))?;
            match req.status {
                TicketStatus::Done => return Ok(TicketResult::Done(req.result)),
                TicketStatus::DeadLettered => return Ok(TicketResult::DeadLettered(req.last_error)),
                _ => {}
            }
            let _ = tokio::time::timeout(self.poll, notified).await;
        }
    }
}
