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

mod delivery;
mod stop;

use self::stop::Stop;
use super::gate::ResourceGate;
use super::queue::{QueueError, RequestQueue, Ticket, TicketStatus};
use crate::backoff::ExponentialBackoff;
use crate::circuit_breaker::{
    CircuitBreaker, CircuitBreakerBuilder, CircuitBreakerRegistry, InvalidBreakerConfig,
};
use crate::clock::{SharedClock, SystemClock};
use crate::resource::{Context, ResourceType};

type HandlerFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, String>> + Send>>;
type HandlerFn = Arc<dyn Fn(serde_json::Value, Context) -> HandlerFuture + Send + Sync>;

struct Handler {
    resource: ResourceType,
    run: HandlerFn,
    breaker: CircuitBreaker,
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
    /// Handlers skipped (for the rest of the pass) because their circuit breaker is open.
    pub breaker_open: usize,
    /// Deliveries cut short by a stop and handed back to the queue unspent.
    pub released: usize,
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
/// name, then acked with the handler's answer or nacked: retried after a delay that doubles with
/// each failed attempt (`retry_in`, `2 × retry_in`, … up to `max_retry_in`), dead-lettered after
/// its attempts. A worker that dies mid-request leaves a lease that expires after `lease_for`,
/// and the request is delivered again without spending an attempt (see [`RequestQueue`]).
///
/// Each handler has a circuit breaker (`queue:<handler>`, on the worker's clock; by default open
/// after 5 consecutive failures, half-open after 30 s): while it is open nothing is leased for
/// that handler, so a handler that fails everything spends no attempts; half-open lets one
/// delivery through. [`run`](Self::run) stops taking leases as soon as its stop signal fires and
/// gives a delivery in flight [`grace`](Self::grace) to finish, then cancels it and
/// [releases](RequestQueue::release) its lease. Every queue call runs on tokio's blocking pool
/// ([`tokio::task::spawn_blocking`]), so a slow disk or network never stalls the async threads.
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
    max_retry_in: Duration,
    grace: Duration,
    poll: Duration,
    batch: usize,
    breaker: CircuitBreakerBuilder,
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
    /// Leases of 60 s; retry 5 s after a first failure, doubling up to 10 min; a grace of 10 s
    /// for a delivery in flight at a stop; status polled every 500 ms while waiting for a ticket;
    /// up to 100 requests per handler per pass; breakers open after 5 consecutive failures for
    /// 30 s; the [`SystemClock`].
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
            max_retry_in: Duration::from_secs(600),
            grace: Duration::from_secs(10),
            poll: Duration::from_millis(500),
            batch: 100,
            breaker: Self::default_breaker(),
            changed: Arc::new(Notify::new()),
        }
    }

    /// The breaker settings a worker starts with: open after 5 consecutive failures, half-open
    /// after 30 s.
    pub fn default_breaker() -> CircuitBreakerBuilder {
        CircuitBreaker::builder().failure_threshold(5).recovery_timeout(Duration::from_secs(30))
    }

    /// The clock for leases, delays and breakers (use `TokioClock` under paused time).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.wall_anchor = clock.wall() - clock.now();
        self.clock = clock;
        self.rebuild_breakers();
        self
    }

    /// The settings of every handler's circuit breaker (its name and clock are the worker's to
    /// set). Refused when they are invalid.
    pub fn breaker(mut self, settings: CircuitBreakerBuilder) -> Result<Self, InvalidBreakerConfig> {
        settings.clone().build()?;
        self.breaker = settings;
        self.rebuild_breakers();
        Ok(self)
    }

    /// Puts every handler's breaker into `registry` (where `/api/breakers` and metrics find it),
    /// keeping the registry's breaker when one by that name is already there. Call it after the
    /// other settings, which rebuild the breakers.
    pub fn share_breakers(mut self, registry: &CircuitBreakerRegistry) -> Self {
        for handler in self.handlers.values_mut() {
            handler.breaker = registry.register(handler.breaker.clone());
        }
        self
    }

    /// The breaker of the handler registered under `name`.
    pub fn handler_breaker(&self, name: &str) -> Option<&CircuitBreaker> {
        self.handlers.get(name).map(|h| &h.breaker)
    }

    fn new_breaker(&self, handler: &str) -> CircuitBreaker {
        let settings = self.breaker.clone().name(format!("queue:{handler}")).clock(self.clock.clone());
        // The settings were checked by `breaker`; a name and a clock cannot make them invalid.
        settings.build().unwrap_or_else(|e| unreachable!("checked breaker settings: {e}"))
    }

    fn rebuild_breakers(&mut self) {
        let names: Vec<String> = self.handlers.keys().cloned().collect();
        for name in names {
            let breaker = self.new_breaker(&name);
            if let Some(handler) = self.handlers.get_mut(&name) {
                handler.breaker = breaker;
            }
        }
    }

    /// How long a delivery may take before the request is handed out again.
    pub fn lease_for(mut self, d: Duration) -> Self {
        self.lease_for = d;
        self
    }

    /// How long a request waits after its first failed attempt; each further failure doubles
    /// the wait, up to [`max_retry_in`](Self::max_retry_in).
    pub fn retry_in(mut self, d: Duration) -> Self {
        self.retry_in = d;
        self
    }

    /// The longest wait between failed attempts.
    pub fn max_retry_in(mut self, d: Duration) -> Self {
        self.max_retry_in = d;
        self
    }

    /// How long a delivery in flight when [`run`](Self::run)'s stop signal fires may take to
    /// finish before it is cancelled and its lease released.
    pub fn grace(mut self, d: Duration) -> Self {
        self.grace = d;
        self
    }

    /// The wait after the `failures`-th failed attempt (from 1): `retry_in × 2^(failures − 1)`,
    /// at most `max_retry_in`.
    ///
    /// ```
    /// use elf_resilience_core::{InMemoryQueue, QueueWorker, StaticGate};
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let worker = QueueWorker::new(Arc::new(InMemoryQueue::new()), Arc::new(StaticGate::new()))
    ///     .retry_in(Duration::from_secs(5))
    ///     .max_retry_in(Duration::from_secs(30));
    /// let waits: Vec<u64> = (1..=5).map(|k| worker.retry_delay(k).as_secs()).collect();
    /// assert_eq!(waits, [5, 10, 20, 30, 30]);
    /// ```
    pub fn retry_delay(&self, failures: u32) -> Duration {
        if self.retry_in.is_zero() {
            return Duration::ZERO;
        }
        let backoff = ExponentialBackoff::builder()
            .with_base_delay(self.retry_in)
            .with_multiplier(2.0)
            .with_max_delay(self.max_retry_in.max(self.retry_in))
            .build();
        // A non-zero base, a factor of 2 and a cap at least the base are always valid.
        backoff.map_or(self.retry_in, |b| b.delay_at(failures.saturating_sub(1)))
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
        let name = name.into();
        let run: HandlerFn = Arc::new(move |payload, ctx| Box::pin(handler(payload, ctx)));
        let breaker = self.new_breaker(&name);
        self.handlers.insert(name, Handler { resource, run, breaker });
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
    /// reports usable and whose breaker is not open.
    pub async fn run_once(&self) -> Result<WorkerPass, QueueError> {
        let mut never = std::pin::pin!(std::future::pending::<()>());
        self.pass(&mut Stop::new(never.as_mut())).await
    }

    /// Runs passes every `interval` until `shutdown` completes: then it takes no new lease, and
    /// a delivery in flight gets the [`grace`](Self::grace) to finish before it is cancelled and
    /// released. Returns the first error.
    pub async fn run(
        &self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), QueueError> {
        self.run_reporting(interval, shutdown, |pass| pass.map(drop)).await
    }

    /// Like [`run`](Self::run), handing each pass (or its error) to `on_pass`; an error
    /// `on_pass` returns ends the run with it.
    pub async fn run_reporting(
        &self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
        mut on_pass: impl FnMut(Result<WorkerPass, QueueError>) -> Result<(), QueueError>,
    ) -> Result<(), QueueError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut stop = Stop::new(shutdown.as_mut());
        loop {
            on_pass(self.pass(&mut stop).await)?;
            if stop.requested() || tokio::time::timeout(interval, stop.asked()).await.is_ok() {
                tracing::debug!("queue worker stopped");
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
            let owned = ticket.clone();
            let req = self.queue_call(move |q| q.get(&owned)).await?;
            let req = req.ok_or_else(|| QueueError::UnknownTicket(ticket.clone()))?;
            match req.status {
                TicketStatus::Done => return Ok(TicketResult::Done(req.result)),
                TicketStatus::DeadLettered => return Ok(TicketResult::DeadLettered(req.last_error)),
                _ => {}
            }
            let _ = tokio::time::timeout(self.poll, notified).await;
        }
    }
}
