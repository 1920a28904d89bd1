//! The queue worker replays through a resource manager that measures nothing for the
//! handler's resource: `Unknown` is usable, the same meaning `can_use_resource` gives it.

use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{
    Clock, EnqueueRequest, InMemoryQueue, ManualClock, QueueWorker, RequestQueue, ResourceType,
};
use elf_resilience_monitor::{BoxFuture, Probe, ProbeError, ResourceManager, Sample};

#[derive(Debug)]
struct Fixed(ResourceType, f64);

impl Probe for Fixed {
    fn resource_type(&self) -> ResourceType {
        self.0
    }
    fn name(&self) -> &str {
        "fixed"
    }
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        let usage = self.1;
        Box::pin(async move { Ok(Sample::new(usage, "fixed")) })
    }
}

fn worker(rm: ResourceManager, queue: Arc<InMemoryQueue>, clock: &ManualClock) -> QueueWorker {
    QueueWorker::new(queue, Arc::new(rm)).clock(clock.shared()).lease_for(Duration::from_secs(30)).register(
        "db-write",
        ResourceType::Database,
        |payload, _ctx| async move { Ok(payload) },
    )
}

fn queued(clock: &ManualClock) -> Arc<InMemoryQueue> {
    let queue = Arc::new(InMemoryQueue::new());
    let req = EnqueueRequest::new("db-write", serde_json::json!({ "row": 1 }));
    queue.enqueue(req, clock.wall()).unwrap();
    queue
}

#[tokio::test(start_paused = true)]
async fn an_unmeasured_resource_is_replayed() {
    let clock = ManualClock::new();
    let rm = ResourceManager::builder().clock(clock.shared()).build().unwrap();
    assert!(rm.can_use_resource(ResourceType::Database));
    let pass = worker(rm, queued(&clock), &clock).run_once().await.unwrap();
    assert_eq!((pass.delivered, pass.succeeded, pass.gated), (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_critical_resource_holds_replay_back() {
    let clock = ManualClock::new();
    let rm = ResourceManager::builder()
        .clock(clock.shared())
        .probe(Fixed(ResourceType::Database, 99.0))
        .build()
        .unwrap();
    rm.refresh_all().await;
    assert!(!rm.can_use_resource(ResourceType::Database));
    let pass = worker(rm, queued(&clock), &clock).run_once().await.unwrap();
    assert_eq!((pass.delivered, pass.gated), (0, 1));
}
