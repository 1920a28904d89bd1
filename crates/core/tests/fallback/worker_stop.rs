//! Stopping the worker: no new lease once asked, and a delivery in flight finishes within the
//! grace or is released unspent.

use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{
    Clock, EnqueueRequest, InMemoryQueue, QueueWorker, RequestQueue, ResourceType, Ticket, TicketStatus,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::support::Rig;

const SEC: Duration = Duration::from_secs(1);

/// A worker whose handler says when it starts, then takes `takes` (forever when `None`).
fn worker(
    rig: &Rig,
    queue: Arc<InMemoryQueue>,
    takes: Option<Duration>,
) -> (QueueWorker, mpsc::UnboundedReceiver<()>) {
    let (started, starts) = mpsc::unbounded_channel();
    let worker = QueueWorker::new(queue, rig.gate.clone()).clock(rig.clock.shared()).grace(5 * SEC).register(
        "slow",
        ResourceType::Network,
        move |_, _| {
            let _ = started.send(());
            async move {
                match takes {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
                Ok(serde_json::json!("done"))
            }
        },
    );
    (worker, starts)
}

fn enqueue(rig: &Rig, queue: &InMemoryQueue, n: usize) -> Vec<Ticket> {
    (0..n)
        .map(|i| queue.enqueue(EnqueueRequest::new("slow", serde_json::json!(i)), rig.clock.wall()).unwrap())
        .collect()
}

/// Runs the worker and asks it to stop as soon as its first delivery starts; returns how long
/// the stop took.
async fn stop_during_first_delivery(
    worker: &QueueWorker,
    mut starts: mpsc::UnboundedReceiver<()>,
) -> Duration {
    let (stop, stopped) = oneshot::channel::<()>();
    let asked = async move {
        starts.recv().await.expect("a delivery starts");
        stop.send(()).unwrap();
        Instant::now()
    };
    let run = worker.run(Duration::from_secs(60), async move {
        let _ = stopped.await;
    });
    let (ran, asked_at) = tokio::join!(run, asked);
    ran.unwrap();
    asked_at.elapsed()
}

#[tokio::test(start_paused = true)]
async fn a_delivery_that_outlasts_the_grace_is_cancelled_and_released_unspent() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let (worker, starts) = worker(&rig, queue.clone(), None);
    let t = enqueue(&rig, &queue, 1).remove(0);
    let took = stop_during_first_delivery(&worker, starts).await;
    assert_eq!(took, 5 * SEC, "the stop waits out the grace, no more");
    let back = queue.get(&t).unwrap().unwrap();
    assert_eq!(
        (back.status, back.attempts, back.released, back.failures()),
        (TicketStatus::Pending, 1, 1, 0)
    );
    let again = queue.lease(None, rig.clock.wall(), SEC).unwrap().expect("ready at once");
    assert_eq!(again.attempts, 2, "the next delivery is numbered on");
}

#[tokio::test(start_paused = true)]
async fn a_delivery_that_ends_within_the_grace_is_acked_and_nothing_more_is_leased() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let (worker, starts) = worker(&rig, queue.clone(), Some(2 * SEC));
    let tickets = enqueue(&rig, &queue, 3);
    let took = stop_during_first_delivery(&worker, starts).await;
    assert_eq!(took, 2 * SEC, "the stop waits for the delivery in flight only");
    assert_eq!(queue.status(&tickets[0]).unwrap(), Some(TicketStatus::Done));
    for t in &tickets[1..] {
        let waiting = queue.get(t).unwrap().unwrap();
        assert_eq!((waiting.status, waiting.attempts), (TicketStatus::Pending, 0), "no lease after the stop");
    }
}

#[tokio::test(start_paused = true)]
async fn a_stop_between_passes_ends_the_run_at_once() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let (worker, _starts) = worker(&rig, queue, None);
    let (stop, stopped) = oneshot::channel::<()>();
    let started = Instant::now();
    let run = worker.run(Duration::from_secs(60), async move {
        let _ = stopped.await;
    });
    let ask = async move {
        tokio::time::sleep(3 * SEC).await;
        stop.send(()).unwrap();
    };
    let (ran, ()) = tokio::join!(run, ask);
    ran.unwrap();
    assert_eq!(started.elapsed(), 3 * SEC, "not at the end of the 60 s interval");
}
