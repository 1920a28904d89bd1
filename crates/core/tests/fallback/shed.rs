use std::sync::Arc;

use elf_resilience_core::{Context, FallbackStrategy, Priority, ResourceStatus, ResourceType, TraceKind};
use tokio::sync::oneshot;

use crate::support::{Calls, Rig};

#[test]
fn sheds_normal_priority_when_critical_but_not_high_priority() {
    let rig = Rig::new();
    rig.set(ResourceType::Cpu, ResourceStatus::Critical);
    let protocol = rig.builder().build().unwrap();
    let calls = Calls::default();
    let run = |p: Priority| {
        protocol.execute_blocking(Context::new().priority(p), ResourceType::Cpu, |a| {
            calls.push(&a);
            Ok::<_, String>(a.batch_size(100))
        })
    };
    let err = run(Priority::Normal).unwrap_err();
    assert!(err.is_shed());
    assert_eq!(err.to_string(), "request shed: cpu critical (95%)");
    assert_eq!(calls.len(), 0);
    let ok = run(Priority::High).unwrap();
    assert_eq!(ok.value(), Some(&50), "exempt, then degraded since cpu is critical");
    assert_eq!(ok.trace().events[0].kind, TraceKind::Skipped);
    assert_eq!(ok.served_by(), Some(FallbackStrategy::DegradeService));
}

#[tokio::test(start_paused = true)]
async fn sheds_beyond_the_concurrency_limit() {
    let rig = Rig::new();
    let protocol = rig.builder().concurrency_limit(1).build().unwrap();
    let (release, wait) = oneshot::channel::<()>();
    let (started_tx, started) = oneshot::channel::<()>();
    let first = {
        let protocol = protocol.clone();
        let slot = Arc::new(std::sync::Mutex::new(Some((wait, started_tx))));
        tokio::spawn(async move {
            protocol
                .execute_with_fallback(Context::new(), ResourceType::Docker, move |_| {
                    let pair = slot.lock().unwrap().take();
                    async move {
                        let (wait, started_tx) = pair.expect("called once");
                        started_tx.send(()).unwrap();
                        wait.await.unwrap();
                        Ok::<_, String>("built")
                    }
                })
                .await
        })
    };
    started.await.unwrap();
    assert_eq!(protocol.in_flight(), 1);
    let low = protocol
        .execute_with_fallback(Context::new(), ResourceType::Docker, |_| async { Ok::<_, String>("x") })
        .await;
    assert_eq!(low.unwrap_err().to_string(), "request shed: concurrency limit 1 reached");
    let critical = Context::new().priority(Priority::Critical);
    let vip = protocol
        .execute_with_fallback(critical, ResourceType::Docker, |_| async { Ok::<_, String>("y") })
        .await;
    assert_eq!(vip.unwrap().value(), Some(&"y"));
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap().unwrap().value(), Some(&"built"));
    assert_eq!(protocol.in_flight(), 0);
}
