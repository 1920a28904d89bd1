//! The worker's redelivery schedule, its per-handler breakers, and its queue calls off the
//! async threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime};

use elf_resilience_core::{
    CircuitBreakerRegistry, CircuitState, Clock, EnqueueRequest, InMemoryQueue, QueueError, QueueWorker,
    QueuedRequest, RequestQueue, ResourceType, Ticket, TicketStatus,
};

use crate::support::Rig;

const SEC: Duration = Duration::from_secs(1);

fn failing(rig: &Rig, queue: Arc<dyn RequestQueue>, healthy: Arc<AtomicBool>) -> QueueWorker {
    QueueWorker::new(queue, rig.gate.clone()).clock(rig.clock.shared()).retry_in(5 * SEC).register(
        "flaky",
        ResourceType::Network,
        move |_, _| {
            let ok = healthy.load(Ordering::SeqCst);
            async move { if ok { Ok(serde_json::json!("ok")) } else { Err("handler down".to_owned()) } }
        },
    )
}

#[tokio::test(start_paused = true)]
async fn failed_attempts_back_off_exponentially_up_to_the_cap() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let worker = failing(&rig, queue.clone(), Arc::new(AtomicBool::new(false)))
        .retry_in(10 * SEC)
        .max_retry_in(40 * SEC)
        .breaker(QueueWorker::default_breaker().failure_threshold(100))
        .unwrap();
    let t = queue
        .enqueue(EnqueueRequest::new("flaky", serde_json::json!(1)).max_attempts(9), rig.clock.wall())
        .unwrap();
    for wait in [10, 20, 40, 40, 40] {
        assert_eq!(worker.run_once().await.unwrap().failed, 1);
        let waiting = queue.get(&t).unwrap().unwrap();
        assert_eq!(waiting.not_before.duration_since(rig.clock.wall()).unwrap(), wait * SEC);
        rig.clock.advance((wait - 1) * SEC);
        assert_eq!(worker.run_once().await.unwrap().delivered, 0, "not before {wait} s");
        rig.clock.advance(SEC);
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_handler_trips_its_breaker_instead_of_dead_lettering_the_queue() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let healthy = Arc::new(AtomicBool::new(false));
    let registry = CircuitBreakerRegistry::default();
    let worker = failing(&rig, queue.clone(), healthy.clone()).share_breakers(&registry);
    let tickets: Vec<Ticket> = (0..20)
        .map(|i| queue.enqueue(EnqueueRequest::new("flaky", serde_json::json!(i)), rig.clock.wall()).unwrap())
        .collect();
    let (mut failed, mut held_back) = (0, 0);
    for _ in 0..=24 {
        let pass = worker.run_once().await.unwrap();
        assert_eq!(pass.dead_lettered, 0, "two minutes of a failing handler dead-letter nothing");
        (failed, held_back) = (failed + pass.failed, held_back + pass.breaker_open);
        rig.clock.advance(5 * SEC);
    }
    assert!(failed <= 10, "the open breaker spent few attempts: {failed}");
    assert!(held_back >= 20, "passes were held back by the breaker: {held_back}");
    let breaker = registry.get("queue:flaky").expect("the handler's breaker is registered");
    assert_ne!(breaker.state(), CircuitState::Closed, "the breaker is not closed while the handler fails");

    healthy.store(true, Ordering::SeqCst);
    let mut passes = 0;
    while tickets.iter().any(|t| queue.status(t).unwrap() != Some(TicketStatus::Done)) {
        passes += 1;
        assert!(passes < 100, "every request is delivered once the handler recovers");
        worker.run_once().await.unwrap();
        rig.clock.advance(5 * SEC);
    }
    assert_eq!(breaker.state(), CircuitState::Closed, "closed again by the deliveries that succeeded");
    let calls = breaker.stats().total_calls;
    assert_eq!(worker.run_once().await.unwrap().delivered, 0);
    assert_eq!(breaker.stats().total_calls, calls, "an empty queue costs a closed breaker no call");
}

/// A queue whose first `lease` waits until the test lets it through, as a slow disk would.
#[derive(Debug)]
struct HeldQueue {
    inner: InMemoryQueue,
    open: Mutex<Option<mpsc::Receiver<()>>>,
}

impl RequestQueue for HeldQueue {
    fn enqueue(&self, req: EnqueueRequest, now: SystemTime) -> Result<Ticket, QueueError> {
        self.inner.enqueue(req, now)
    }
    fn lease(
        &self,
        h: Option<&str>,
        now: SystemTime,
        d: Duration,
    ) -> Result<Option<QueuedRequest>, QueueError> {
        if let Some(open) = self.open.lock().unwrap().take() {
            let opened = open.recv_timeout(Duration::from_secs(20));
            opened.map_err(|_| QueueError::Backend("the lease was never let through".into()))?;
        }
        self.inner.lease(h, now, d)
    }
    fn ack(&self, t: &Ticket, r: Option<serde_json::Value>) -> Result<(), QueueError> {
        self.inner.ack(t, r)
    }
    fn nack(&self, t: &Ticket, e: &str, now: SystemTime, d: Duration) -> Result<TicketStatus, QueueError> {
        self.inner.nack(t, e, now, d)
    }
    fn release(&self, t: &Ticket) -> Result<(), QueueError> {
        self.inner.release(t)
    }
    fn get(&self, t: &Ticket) -> Result<Option<QueuedRequest>, QueueError> {
        self.inner.get(t)
    }
    fn list(&self, s: Option<TicketStatus>, n: usize) -> Result<Vec<QueuedRequest>, QueueError> {
        self.inner.list(s, n)
    }
    fn purge(&self, s: TicketStatus) -> Result<usize, QueueError> {
        self.inner.purge(s)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocked_queue_call_leaves_the_async_thread_free() {
    let rig = Rig::new();
    let (let_through, open) = mpsc::channel();
    let queue = Arc::new(HeldQueue { inner: InMemoryQueue::new(), open: Mutex::new(Some(open)) });
    queue.enqueue(EnqueueRequest::new("flaky", serde_json::json!(1)), rig.clock.wall()).unwrap();
    let worker = failing(&rig, queue.clone(), Arc::new(AtomicBool::new(true)));
    // On the one async thread: the pass must wait for its lease elsewhere, or the task that
    // lets the lease through never runs.
    let (pass, ()) = tokio::join!(worker.run_once(), async move { let_through.send(()).unwrap() });
    assert_eq!(pass.expect("the lease was let through").succeeded, 1);
}
