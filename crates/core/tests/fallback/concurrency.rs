use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{
    Context, FallbackProtocol, FallbackStrategy, InMemoryQueue, ResourceStatus, ResourceType, StaticGate,
    TokioClock, TraceKind,
};

use crate::support::fixed;

#[tokio::test(start_paused = true)]
async fn many_concurrent_executions_each_have_a_complete_trace() {
    let gate = Arc::new(StaticGate::new());
    gate.set_for_model(ResourceType::ApiQuota, "claude", ResourceStatus::Warning, 85.0);
    let protocol = FallbackProtocol::builder()
        .gate(gate)
        .clock(TokioClock::shared())
        .providers(["gpt-4", "claude"])
        .queue(Arc::new(InMemoryQueue::new()))
        .retry_backoff(fixed(1, 50))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..200_u32 {
        let protocol = protocol.clone();
        tasks.push(tokio::spawn(async move {
            let ctx = Context::new().operation(format!("job-{i}"));
            let fail_until = i % 5; // calls 1..=fail_until fail
            let outcome = protocol
                .execute_with_fallback(ctx, ResourceType::ApiQuota, move |a| async move {
                    tokio::time::sleep(Duration::from_millis(u64::from(i % 7))).await;
                    if a.number <= fail_until {
                        Err(format!("job {i} call {}", a.number))
                    } else {
                        Ok((i, a.number))
                    }
                })
                .await
                .unwrap();
            (i, outcome)
        }));
    }
    for task in tasks {
        let (i, outcome) = task.await.unwrap();
        let (job, number) = *outcome.value().unwrap();
        let trace = outcome.trace();
        assert_eq!(job, i);
        assert_eq!(number, i % 5 + 1, "job {i}");
        assert_eq!(trace.calls(), (i % 5 + 1) as usize);
        let failed: Vec<_> = trace.events.iter().filter(|e| e.kind == TraceKind::Failed).collect();
        for (n, e) in failed.iter().enumerate() {
            assert_eq!(e.error.as_deref(), Some(format!("job {i} call {}", n + 1).as_str()));
            assert_eq!(e.duration, Duration::from_millis(u64::from(i % 7)));
        }
        assert_eq!(trace.events.last().unwrap().kind, TraceKind::Succeeded);
        let expected = match i % 5 {
            0 => None,
            1 => Some(FallbackStrategy::Retry),
            2 => Some(FallbackStrategy::SwitchProvider),
            _ => Some(FallbackStrategy::DegradeService),
        };
        assert_eq!(outcome.served_by(), expected, "job {i}");
    }
    assert_eq!(protocol.in_flight(), 0);
}
