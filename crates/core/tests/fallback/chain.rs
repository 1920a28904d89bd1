use std::sync::Arc;

use elf_resilience_core::{
    Context, FallbackProtocol, FallbackRequest, FallbackStrategy, InMemoryQueue, Outcome, RequestQueue,
    ResourceStatus, ResourceType, TraceKind,
};

use crate::support::{Calls, Rig};

#[test]
fn api_quota_default_chain_retries_switches_degrades_then_queues() {
    let rig = Rig::new();
    let queue = Arc::new(InMemoryQueue::new());
    let protocol = rig.builder().providers(["gpt-4", "claude"]).queue(queue.clone()).build().unwrap();
    let calls = Calls::default();
    let req = FallbackRequest::<String>::new(ResourceType::ApiQuota)
        .context(Context::new().team("sales-team"))
        .queue_payload("llm", serde_json::json!({"prompt": "hello"}));
    let outcome = protocol
        .execute_request_blocking(req, |a| {
            calls.push(&a);
            Err::<String, _>(format!("429 from {}", a.model_or("?")))
        })
        .unwrap();
    let providers: Vec<String> = calls.providers().into_iter().map(Option::unwrap).collect();
    assert_eq!(providers, ["gpt-4", "gpt-4", "gpt-4", "claude", "claude", "claude"]);
    assert_eq!(calls.levels(), [0, 0, 0, 0, 1, 2]);
    let Outcome::Queued { ticket, trace } = outcome else { panic!("expected queued") };
    assert!(queue.get(&ticket).unwrap().is_some());
    use FallbackStrategy::*;
    assert_eq!(
        trace.strategies(),
        [None, Some(Retry), Some(SwitchProvider), Some(DegradeService), Some(QueueRequest)]
    );
    assert_eq!(trace.calls(), 6);
    assert_eq!(trace.events.iter().filter(|e| e.kind == TraceKind::Waited).count(), 2);
}

#[tokio::test(start_paused = true)]
async fn custom_orders_per_call_and_per_protocol() {
    let rig = Rig::new();
    rig.set(ResourceType::Network, ResourceStatus::Warning);
    let protocol =
        rig.builder().order(ResourceType::Network, [FallbackStrategy::DegradeService]).build().unwrap();
    assert_eq!(protocol.order_for(ResourceType::Network), [FallbackStrategy::DegradeService]);
    assert_eq!(FallbackProtocol::default().order_for(ResourceType::Memory).len(), 2);
    let calls = Calls::default();
    let c = calls.clone();
    let op = move |a: elf_resilience_core::Attempt| {
        c.push(&a);
        async move { if a.degrade.is_full() { Err("too big") } else { Ok(a.degrade.level) } }
    };
    let by_protocol = protocol.execute_with_fallback(Context::new(), ResourceType::Network, op.clone()).await;
    assert_eq!(by_protocol.unwrap().served_by(), Some(FallbackStrategy::DegradeService));
    let per_call = FallbackRequest::new(ResourceType::Network).strategies([FallbackStrategy::Retry]);
    let err = protocol.execute(per_call, op).await.unwrap_err();
    assert_eq!(err.trace().strategies(), [None, Some(FallbackStrategy::Retry)]);
    assert_eq!(calls.len(), 2 + 3);
}

#[test]
fn outcomes_serialize_for_logs_and_the_dashboard() {
    let rig = Rig::new();
    let protocol = rig.builder().build().unwrap();
    let mut first = true;
    let req = FallbackRequest::new(ResourceType::Database).strategies([FallbackStrategy::Retry]);
    let outcome = protocol
        .execute_request_blocking(req, |_| {
            let fail = std::mem::replace(&mut first, false);
            if fail { Err("blip") } else { Ok("rows") }
        })
        .unwrap();
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["value"]["value"], "rows");
    assert_eq!(json["value"]["served"]["by"], "retry");
    let events = json["value"]["served"]["trace"]["events"].as_array().unwrap();
    assert_eq!(events[0]["kind"], "failed");
    assert_eq!(events[0]["error"], "blip");
    assert_eq!(events[1]["kind"], "waited");
    assert_eq!(events[2]["kind"], "succeeded");
}
