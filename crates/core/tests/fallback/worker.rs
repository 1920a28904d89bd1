use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use elf_resilience_core::{
    Clock, Context, EnqueueRequest, FallbackRequest, InMemoryQueue, Outcome, QueueWorker, RequestQueue,
    ResourceStatus, ResourceType, TicketResult, TicketStatus, WorkerPass,
};
use serde::{Deserialize, Serialize};

use crate::support::Rig;

#[derive(Serialize, Deserialize)]
struct Prompt {
    text: String,
}

fn worker(rig: &Rig, queue: Arc<InMemoryQueue>) -> QueueWorker {
    QueueWorker::new(queue, rig.gate.clone())
        .clock(rig.clock.shared())
        .lease_for(Duration::from_secs(30))
        .retry_in(Duration::from_secs(10))
}

#[tokio::test(start_paused = true)]
async fn protocol_queues_while_exhausted_and_the_worker_replays_when_usable() {
    let rig = Rig::new();
    rig.set(ResourceType::ApiQuota, ResourceStatus::Exhausted);
    let queue = Arc::new(InMemoryQueue::new());
    let protocol = rig.builder().queue(queue.clone()).build().unwrap();
    let req = FallbackRequest::<String>::new(ResourceType::ApiQuota)
        .context(Context::new().team("sales-team"))
        .queue_as("llm", &Prompt { text: "summarize".into() })
        .unwrap();
    let outcome = protocol.execute(req, |_| async { Ok::<_, String>("never".to_owned()) }).await.unwrap();
    let Outcome::Queued { ticket, .. } = outcome else { panic!("expected queued") };

    let worker = Arc::new(worker(&rig, queue.clone()).register_typed(
        "llm",
        ResourceType::ApiQuota,
        |p: Prompt, ctx| async move {
            Ok::<_, String>(format!("{} for {}", p.text.to_uppercase(), ctx.team_name.unwrap_or_default()))
        },
    ));
    assert_eq!(worker.run_once().await.unwrap(), WorkerPass { gated: 1, ..WorkerPass::default() });
    assert_eq!(worker.status(&ticket).unwrap(), Some(TicketStatus::Pending));

    let waiter = {
        let (worker, ticket) = (worker.clone(), ticket.clone());
        tokio::spawn(async move { worker.wait_for(&ticket).await })
    };
    tokio::task::yield_now().await;
    rig.set(ResourceType::ApiQuota, ResourceStatus::Warning);
    let pass = worker.run_once().await.unwrap();
    assert_eq!((pass.delivered, pass.succeeded), (1, 1));
    let result = waiter.await.unwrap().unwrap();
    assert_eq!(result, TicketResult::Done(Some(serde_json::json!("SUMMARIZE for sales-team"))));
}

#[tokio::test(start_paused = true)]
async fn failures_are_retried_later_then_dead_lettered() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let worker = worker(&rig, queue.clone()).register("flaky", ResourceType::Network, move |_, _| {
        let n = c.fetch_add(1, Ordering::SeqCst) + 1;
        async move { Err(format!("failure {n}")) }
    });
    let ticket = queue
        .enqueue(EnqueueRequest::new("flaky", serde_json::json!({})).max_attempts(2), rig.clock.wall())
        .unwrap();
    let first = worker.run_once().await.unwrap();
    assert_eq!((first.delivered, first.failed, first.dead_lettered), (1, 1, 0));
    assert_eq!(worker.run_once().await.unwrap().delivered, 0, "not before retry_in");
    rig.clock.advance(Duration::from_secs(10));
    let second = worker.run_once().await.unwrap();
    assert_eq!((second.delivered, second.redelivered, second.dead_lettered), (1, 1, 1));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let result = worker.wait_for(&ticket).await.unwrap();
    assert_eq!(result, TicketResult::DeadLettered(Some("failure 2".into())));
}

#[tokio::test(start_paused = true)]
async fn an_abandoned_lease_is_redelivered_and_counted() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let worker =
        worker(&rig, queue.clone())
            .register_typed("echo", ResourceType::Cpu, |n: u64, _| async move { Ok::<_, String>(n + 1) });
    let ticket = queue.enqueue(EnqueueRequest::new("echo", serde_json::json!(41)), rig.clock.wall()).unwrap();
    let crashed = queue.lease(Some("echo"), rig.clock.wall(), Duration::from_secs(30)).unwrap().unwrap();
    assert_eq!(crashed.attempts, 1);
    assert_eq!(worker.run_once().await.unwrap().delivered, 0, "still leased by the crashed consumer");
    rig.clock.advance(Duration::from_secs(30));
    let pass = worker.run_once().await.unwrap();
    assert_eq!((pass.delivered, pass.redelivered, pass.succeeded), (1, 1, 1));
    let done = queue.get(&ticket).unwrap().unwrap();
    assert_eq!((done.attempts, done.result), (2, Some(serde_json::json!(42))));
}

#[tokio::test(start_paused = true)]
async fn bad_payloads_fail_and_unknown_tickets_are_errors() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let worker =
        worker(&rig, queue.clone())
            .register_typed("typed", ResourceType::Cpu, |n: u64, _| async move { Ok::<_, String>(n) });
    let ticket = queue
        .enqueue(EnqueueRequest::new("typed", serde_json::json!("x")).max_attempts(1), rig.clock.wall())
        .unwrap();
    assert_eq!(worker.run_once().await.unwrap().dead_lettered, 1);
    let TicketResult::DeadLettered(Some(error)) = worker.wait_for(&ticket).await.unwrap() else { panic!() };
    assert!(error.starts_with("bad payload"), "{error}");
    assert!(worker.wait_for(&"nope".into()).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_handler_sees_the_same_ticket_on_every_delivery_and_the_attempt_number() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let worker = worker(&rig, queue.clone()).register("flaky", ResourceType::Cpu, move |_, ctx: Context| {
        let tags =
            (ctx.get_tag(QueueWorker::TICKET_TAG).map(str::to_owned), ctx.get_tag("team").map(str::to_owned));
        let attempt = ctx.get_tag(QueueWorker::ATTEMPT_TAG).map(str::to_owned);
        log.lock().unwrap().push((tags, attempt.clone()));
        async move {
            if attempt.as_deref() == Some("1") {
                Err("first fails".to_owned())
            } else {
                Ok(serde_json::json!(1))
            }
        }
    });
    let req = EnqueueRequest::new("flaky", serde_json::json!(0)).context(Context::new().tag("team", "sales"));
    let ticket = queue.enqueue(req, rig.clock.wall()).unwrap();
    assert_eq!(worker.run_once().await.unwrap().failed, 1);
    rig.clock.advance(Duration::from_secs(10));
    assert_eq!(worker.run_once().await.unwrap().succeeded, 1);
    let key = Some(ticket.to_string());
    let team = Some("sales".to_owned());
    assert_eq!(
        *seen.lock().unwrap(),
        [((key.clone(), team.clone()), Some("1".to_owned())), ((key, team), Some("2".to_owned()))]
    );
}
