use std::sync::{Arc, Mutex};

use elf_resilience_core::{
    Context, FallbackEvent, FallbackStage, FallbackStrategy, ResourceStatus, ResourceType,
};

use crate::support::Rig;

type Log = Arc<Mutex<Vec<String>>>;

fn describe(e: &FallbackEvent) -> String {
    let strategy = e.strategy.map_or("primary", FallbackStrategy::as_str);
    format!("{:?}/{strategy}/{}/{}", e.stage, e.attempt, e.provider.as_deref().unwrap_or("-"))
}

#[tokio::test(start_paused = true)]
async fn async_hooks_see_every_stage_in_order() {
    let rig = Rig::new();
    rig.gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
    let log: Log = Arc::default();
    let served: Log = Arc::default();
    let (l, s) = (log.clone(), served.clone());
    let protocol =
        rig.builder()
            .providers(["gpt-4", "claude"])
            .on_event(move |e| {
                let l = l.clone();
                async move {
                    tokio::task::yield_now().await;
                    l.lock().unwrap().push(describe(&e));
                }
            })
            .add_stage_hook(FallbackStage::Served, move |e| {
                let s = s.clone();
                async move {
                    s.lock().unwrap().push(format!("{} for {}", describe(&e), e.context.team_name.unwrap()))
                }
            })
            .build()
            .unwrap();
    let ctx = Context::new().team("sales-team").model("gpt-4");
    let outcome = protocol
        .execute_with_fallback(ctx, ResourceType::ApiQuota, |a| async move { Ok::<_, String>(a.number) })
        .await
        .unwrap();
    assert_eq!(outcome.value(), Some(&1));
    assert_eq!(
        *log.lock().unwrap(),
        [
            "StrategyChanged/retry/0/gpt-4",
            "StrategyChanged/switch_provider/0/gpt-4",
            "AttemptStarted/switch_provider/1/claude",
            "Served/switch_provider/1/claude",
        ]
    );
    assert_eq!(*served.lock().unwrap(), ["Served/switch_provider/1/claude for sales-team"]);
}

#[test]
fn blocking_execution_runs_async_hooks_and_reports_exhaustion() {
    let rig = Rig::new();
    let log: Log = Arc::default();
    let l = log.clone();
    let protocol = rig
        .builder()
        .add_stage_hook(FallbackStage::Exhausted, move |e| {
            let l = l.clone();
            async move { l.lock().unwrap().push(format!("{} {}", describe(&e), e.detail.unwrap_or_default())) }
        })
        .build()
        .unwrap();
    let err = protocol
        .execute_blocking(Context::new(), ResourceType::Database, |_| Err::<(), _>("timeout"))
        .unwrap_err();
    assert_eq!(err.trace().calls(), 3);
    assert_eq!(*log.lock().unwrap(), ["Exhausted/circuit_break/3/- timeout"]);
}
