//! `serve`'s queue worker: replays queued requests by POSTing their payload to the handler
//! URLs of `[[queue.handlers]]`, while each handler's resource is usable (anything but
//! critical or exhausted: a resource nothing measures does not hold replay back).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience::{QueueWorker, RequestQueue, ResourceGate, SharedClock, WorkerPass};
use serde::Serialize;

use crate::config::{Config, HANDLER_TIMEOUT as TIMEOUT, LEASE_FOR, MAX_RETRY_IN, QueueHandler, RETRY_IN};

const INTERVAL: Duration = Duration::from_secs(5);
/// How much of a handler's reply is kept as the request's result unless `[queue]
/// max_result_bytes` says otherwise.
pub const MAX_RESULT_BYTES: u64 = 1024 * 1024;

/// Totals of the worker's passes, for `/api/queue` and the dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReplayTotals {
    /// Passes run.
    pub passes: u64,
    /// Requests handed to a handler.
    pub delivered: u64,
    /// Of those, answered with 2xx.
    pub succeeded: u64,
    /// Failed attempts (retried or dead-lettered).
    pub failed: u64,
    /// Failed attempts that dead-lettered their request.
    pub dead_lettered: u64,
    /// Handler passes skipped because their resource was not usable.
    pub gated: u64,
    /// Handler passes held back because the handler's breaker was open.
    pub breaker_open: u64,
    /// Deliveries cut short by a stop and released back to the queue unspent.
    pub released: u64,
}

impl ReplayTotals {
    fn add(&mut self, p: &WorkerPass) {
        self.passes += 1;
        self.delivered += p.delivered as u64;
        self.succeeded += p.succeeded as u64;
        self.failed += p.failed as u64;
        self.dead_lettered += p.dead_lettered as u64;
        self.gated += p.gated as u64;
        self.breaker_open += p.breaker_open as u64;
        self.released += p.released as u64;
    }
}

/// What the server shows about replay: the handlers (URLs redacted) and the totals of every
/// worker replaying in this process: `serve`'s, and the demo's in-process one.
#[derive(Debug, Default, Serialize)]
pub struct ReplayStatus {
    /// The configured handlers; their `url` serializes redacted.
    pub handlers: Vec<QueueHandler>,
    in_process: Mutex<Vec<String>>,
    totals: Mutex<ReplayTotals>,
}

impl ReplayStatus {
    /// The totals so far.
    pub fn totals(&self) -> ReplayTotals {
        *lock(&self.totals)
    }

    /// Handlers that run inside this process rather than at a URL (the demo's), by name.
    pub fn in_process(&self) -> Vec<String> {
        lock(&self.in_process).clone()
    }

    /// Lists `name` among the in-process handlers (once).
    pub fn add_in_process(&self, name: &str) {
        let mut names = lock(&self.in_process);
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }

    /// Adds one worker pass to the totals.
    pub fn record(&self, pass: &WorkerPass) {
        lock(&self.totals).add(pass);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The worker over `queue` with one HTTP handler per `[[queue.handlers]]`, gated by `gate`,
/// each behind its breaker (`[queue] breaker_*`).
pub fn queue_worker(
    config: &Config,
    queue: Arc<dyn RequestQueue>,
    gate: Arc<dyn ResourceGate>,
    clock: SharedClock,
) -> anyhow::Result<QueueWorker> {
    let q = &config.queue;
    let mut worker = QueueWorker::new(queue, gate)
        .clock(clock)
        .retry_in(q.retry_in.map_or(RETRY_IN, |d| d.0))
        .max_retry_in(q.max_retry_in.map_or(MAX_RETRY_IN, |d| d.0))
        .lease_for(q.lease_for.map_or(LEASE_FOR, |d| d.0))
        .grace(delivery_grace(config.server.shutdown_grace()))
        .breaker(breaker_settings(config))?;
    let client = reqwest::Client::new();
    let max_result = usize::try_from(q.max_result_bytes.unwrap_or(MAX_RESULT_BYTES)).unwrap_or(usize::MAX);
    for h in &q.handlers {
        let resource = h.resource_type().map_err(anyhow::Error::msg)?;
        let (client, url) = (client.clone(), h.url.0.expose().to_owned());
        let timeout = h.timeout.map_or(TIMEOUT, |d| d.0);
        worker = worker.register(h.name.clone(), resource, move |payload, ctx| {
            let delivery = Delivery::of(&ctx);
            post(client.clone(), url.clone(), timeout, payload, delivery, max_result)
        });
    }
    Ok(worker)
}

/// The handlers' breaker settings: the worker's defaults, with `[queue] breaker_*` over them.
fn breaker_settings(config: &Config) -> elf_resilience::CircuitBreakerBuilder {
    let mut settings = QueueWorker::default_breaker();
    if let Some(n) = config.queue.breaker_failure_threshold {
        settings = settings.failure_threshold(n.get());
    }
    if let Some(d) = config.queue.breaker_recovery_timeout {
        settings = settings.recovery_timeout(d.0);
    }
    settings
}

/// How long a delivery in flight may take to finish at a stop: the stop's grace less a reserve
/// (a fifth, at most 1 s) for releasing what is cut short, flushing and closing.
pub fn delivery_grace(shutdown_grace: Duration) -> Duration {
    shutdown_grace - (shutdown_grace / 5).min(Duration::from_secs(1))
}

/// The headers that say which request a delivery is: `Idempotency-Key` (the ticket, the same
/// on every redelivery) and `Elf-Delivery-Attempt` (1 the first time).
#[derive(Debug, Default)]
struct Delivery {
    ticket: Option<String>,
    attempt: Option<String>,
}

impl Delivery {
    fn of(ctx: &elf_resilience::Context) -> Self {
        let tag = |key| ctx.get_tag(key).map(str::to_owned);
        Self { ticket: tag(QueueWorker::TICKET_TAG), attempt: tag(QueueWorker::ATTEMPT_TAG) }
    }

    fn headers(self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(ticket) = self.ticket {
            request = request.header("Idempotency-Key", ticket);
        }
        if let Some(attempt) = self.attempt {
            request = request.header("Elf-Delivery-Attempt", attempt);
        }
        request
    }
}

/// POSTs `payload`; the answer (JSON if it is, else text) on 2xx, else why not. Errors never
/// carry the URL, which may hold credentials.
async fn post(
    client: reqwest::Client,
    url: String,
    timeout: Duration,
    payload: serde_json::Value,
    delivery: Delivery,
    max_result: usize,
) -> Result<serde_json::Value, String> {
    let sent = delivery.headers(client.post(&url)).timeout(timeout).json(&payload).send().await;
    let mut response = sent.map_err(|e| format!("delivery failed: {}", e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("handler answered HTTP {}", status.as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| format!("reading the reply: {}", e.without_url()))?
    {
        if body.len() + chunk.len() > max_result {
            body.extend_from_slice(&chunk[..max_result - body.len()]);
            return Ok(truncated(&body, max_result));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// The result kept for a reply longer than `limit`: its first `limit` bytes, marked. The rest
/// is never read, so a huge reply costs neither memory nor queue space.
fn truncated(head: &[u8], limit: usize) -> serde_json::Value {
    tracing::warn!(limit, "handler reply over [queue] max_result_bytes; kept truncated");
    serde_json::json!({ "truncated": true, "limit_bytes": limit, "head": String::from_utf8_lossy(head) })
}

/// The pause between passes: `[queue] interval`, default 5 s.
pub fn interval(config: &Config) -> Duration {
    config.queue.interval.map_or(INTERVAL, |d| d.0)
}

/// Runs a pass every `interval` until `stop` turns true, recording totals. At the stop no new
/// lease is taken and a delivery in flight gets the worker's grace, then is released.
pub async fn run(
    worker: QueueWorker,
    status: Arc<ReplayStatus>,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let record = |pass: Result<WorkerPass, elf_resilience::QueueError>| {
        match pass {
            Ok(pass) => {
                status.record(&pass);
                if pass.delivered > 0 {
                    tracing::info!(
                        delivered = pass.delivered,
                        succeeded = pass.succeeded,
                        failed = pass.failed,
                        released = pass.released,
                        "queue replay"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "queue replay pass failed"),
        }
        Ok(())
    };
    let _ = worker.run_reporting(interval, stopped, record).await;
}

/// The status of `config`'s handlers, before any pass.
pub fn status(config: &Config) -> Arc<ReplayStatus> {
    Arc::new(ReplayStatus { handlers: config.queue.handlers.clone(), ..ReplayStatus::default() })
}
