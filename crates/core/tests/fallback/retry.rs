use std::time::Duration;

use elf_resilience_core::{
    Clock, Context, FallbackError, FallbackProtocol, FallbackRequest, FallbackStrategy, ResourceStatus,
    ResourceType, TokioClock, TraceKind,
};

use crate::support::{Calls, Rig, fixed};

#[test]
fn blocking_retry_succeeds_on_the_third_call_after_two_delays() {
    let rig = Rig::new();
    let protocol = rig.builder().retry_backoff(fixed(3, 250)).build().unwrap();
    let calls = Calls::default();
    let req = FallbackRequest::new(ResourceType::Database).strategies([FallbackStrategy::Retry]);
    let outcome = protocol
        .execute_request_blocking(req, |a| {
            calls.push(&a);
            if a.number < 3 { Err(format!("transient {}", a.number)) } else { Ok(a.number * 10) }
        })
        .unwrap();
    assert_eq!(outcome.value(), Some(&30));
    assert_eq!(outcome.served_by(), Some(FallbackStrategy::Retry));
    assert_eq!(calls.len(), 3);
    assert_eq!(rig.clock.now(), Duration::from_millis(500), "two 250 ms delays on the manual clock");
    let trace = outcome.trace();
    let kinds: Vec<TraceKind> = trace.events.iter().map(|e| e.kind).collect();
    use TraceKind::*;
    assert_eq!(kinds, [Failed, Waited, Failed, Waited, Succeeded]);
    assert_eq!(trace.events[0].error.as_deref(), Some("transient 1"));
    assert_eq!(trace.elapsed, Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn async_retry_gives_up_and_reports_the_last_error() {
    let protocol = FallbackProtocol::builder()
        .clock(TokioClock::shared())
        .retry_backoff(fixed(2, 1000))
        .order(ResourceType::Network, [FallbackStrategy::Retry])
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let err = protocol
        .execute_with_fallback(Context::new(), ResourceType::Network, |a| async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Err::<(), _>(format!("down #{}", a.number))
        })
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_millis(2030));
    let FallbackError::Exhausted { resource, last, trace } = err else { panic!("expected exhausted") };
    assert_eq!((resource, last.as_deref()), (ResourceType::Network, Some("down #3")));
    assert_eq!(trace.calls(), 3);
    assert_eq!(trace.events[0].duration, Duration::from_millis(10));
    assert_eq!(trace.elapsed, Duration::from_millis(2030));
}

#[test]
fn retry_stops_when_the_resource_turns_critical() {
    let rig = Rig::new();
    let protocol = rig.builder().build().unwrap();
    let gate = rig.gate.clone();
    let req = FallbackRequest::<()>::new(ResourceType::Database).strategies([FallbackStrategy::Retry]);
    let err = protocol
        .execute_request_blocking(req, |_| {
            gate.set(ResourceType::Database, ResourceStatus::Critical, 97.0);
            Err("connection reset")
        })
        .unwrap_err();
    let trace = err.trace();
    assert_eq!(trace.calls(), 1);
    let skipped = trace.events.iter().find(|e| e.kind == TraceKind::Skipped).unwrap();
    assert_eq!(skipped.note.as_deref(), Some("database critical (97%)"));
}
