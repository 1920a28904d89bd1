use std::sync::Arc;

use elf_resilience_core::{
    Context, FallbackRequest, FallbackStrategy, InMemoryQueue, Outcome, Priority, RequestQueue,
    ResourceStatus, ResourceType, TicketStatus, TraceKind,
};
use serde::Serialize;

use crate::support::{Calls, Rig};

#[derive(Serialize)]
struct Batch {
    file: String,
    batch_size: usize,
}

#[test]
fn exhausted_memory_queues_the_serialized_request() {
    let rig = Rig::new();
    rig.set(ResourceType::Memory, ResourceStatus::Exhausted);
    let queue = Arc::new(InMemoryQueue::new());
    let protocol = rig.builder().queue(queue.clone()).queue_max_attempts(3).build().unwrap();
    let calls = Calls::default();
    let ctx = Context::new().team("data").priority(Priority::Low);
    let req = FallbackRequest::<u64>::new(ResourceType::Memory)
        .context(ctx.clone())
        .queue_as("process_large_file", &Batch { file: "big.csv".into(), batch_size: 10_000 })
        .unwrap();
    let outcome = protocol
        .execute_request_blocking(req, |a| {
            calls.push(&a);
            Ok::<_, String>(1)
        })
        .unwrap();
    assert_eq!(calls.len(), 0, "exhausted memory: nothing runs");
    let Outcome::Queued { ticket, trace } = outcome else { panic!("expected queued") };
    let stored = queue.get(&ticket).unwrap().unwrap();
    assert_eq!(stored.handler, "process_large_file");
    assert_eq!(stored.payload, serde_json::json!({"file": "big.csv", "batch_size": 10_000}));
    assert_eq!((stored.context, stored.max_attempts, stored.status), (ctx, 3, TicketStatus::Pending));
    assert_eq!(trace.events.last().unwrap().kind, TraceKind::Queued);
    assert_eq!(
        trace.strategies(),
        [None, Some(FallbackStrategy::DegradeService), Some(FallbackStrategy::QueueRequest)]
    );
}

#[test]
fn without_a_payload_or_queue_the_step_is_skipped() {
    let rig = Rig::new();
    rig.set(ResourceType::Memory, ResourceStatus::Exhausted);
    let protocol = rig.builder().queue(Arc::new(InMemoryQueue::new())).build().unwrap();
    let err =
        protocol.execute_blocking(Context::new(), ResourceType::Memory, |_| Ok::<u8, String>(1)).unwrap_err();
    assert_eq!(err.trace().events.last().unwrap().note.as_deref(), Some("no queue payload"));
    let bare = rig.builder().build().unwrap();
    let req = FallbackRequest::<u8>::new(ResourceType::Memory).queue_payload("h", serde_json::json!(1));
    let err = bare.execute_request_blocking(req, |_| Ok::<u8, String>(1)).unwrap_err();
    assert_eq!(err.trace().events.last().unwrap().note.as_deref(), Some("no queue configured"));
}
