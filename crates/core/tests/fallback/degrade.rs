use elf_resilience_core::{
    Context, DegradeLevel, FallbackProtocol, FallbackRequest, FallbackStrategy, InvalidFallbackConfig,
    ResourceStatus, ResourceType,
};

use crate::support::{Calls, Rig};

#[test]
fn steps_down_until_the_call_fits() {
    let rig = Rig::new();
    rig.set(ResourceType::ApiQuota, ResourceStatus::Warning);
    let protocol = rig.builder().build().unwrap();
    let calls = Calls::default();
    let req = FallbackRequest::new(ResourceType::ApiQuota).strategies([FallbackStrategy::DegradeService]);
    let outcome = protocol
        .execute_request_blocking(req, |a| {
            calls.push(&a);
            let tokens = a.max_tokens(2000);
            if tokens > 500 {
                Err(format!("{tokens} tokens over budget"))
            } else {
                Ok((tokens, a.temperature(1.0)))
            }
        })
        .unwrap();
    assert_eq!(calls.levels(), [0, 1, 2]);
    let (tokens, temperature) = *outcome.value().unwrap();
    assert_eq!(tokens, 500);
    assert!((temperature - 0.4).abs() < 1e-6);
    assert_eq!(outcome.served().unwrap().degrade_level, 2);
}

#[tokio::test(start_paused = true)]
async fn memory_pressure_skips_full_quality_and_shrinks_the_batch() {
    let rig = Rig::new();
    rig.set(ResourceType::Memory, ResourceStatus::Critical);
    let protocol =
        rig.builder().degrade_levels([DegradeLevel::FULL, DegradeLevel::uniform(9, 0.1)]).build().unwrap();
    let calls = Calls::default();
    let c = calls.clone();
    let outcome = protocol
        .execute_with_fallback(
            Context::new().operation("process_large_file"),
            ResourceType::Memory,
            move |a| {
                c.push(&a);
                async move { Ok::<_, String>(a.batch_size(10_000)) }
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome.value(), Some(&1_000));
    assert_eq!(calls.levels(), [1], "critical memory: no full-quality call; levels renumbered");
}

#[test]
fn rejects_bad_levels_at_build_time() {
    let bad =
        |levels: Vec<DegradeLevel>| FallbackProtocol::builder().degrade_levels(levels).build().unwrap_err();
    assert!(matches!(bad(vec![]), InvalidFallbackConfig::DegradeLevels(_)));
    assert!(matches!(bad(vec![DegradeLevel::uniform(0, 0.5)]), InvalidFallbackConfig::DegradeLevels(_)));
    let zero = vec![DegradeLevel::FULL, DegradeLevel::uniform(1, 0.0)];
    assert!(matches!(bad(zero), InvalidFallbackConfig::DegradeLevels(_)));
    let empty_order = FallbackProtocol::builder().order(ResourceType::Cpu, []).build().unwrap_err();
    assert_eq!(empty_order, InvalidFallbackConfig::EmptyOrder(ResourceType::Cpu));
    assert_eq!(
        FallbackProtocol::builder().concurrency_limit(0).build().unwrap_err(),
        InvalidFallbackConfig::ZeroConcurrency
    );
}
