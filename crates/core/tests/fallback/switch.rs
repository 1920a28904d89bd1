use std::sync::Arc;

use elf_resilience_core::{
    CircuitBreaker, CircuitBreakerRegistry, Context, FallbackRequest, FallbackStrategy, ResourceStatus,
    ResourceType, TraceKind,
};

use crate::support::{Calls, Rig};

#[test]
fn walks_the_provider_list_skipping_providers_with_critical_quota() {
    let rig = Rig::new();
    rig.gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
    rig.gate.set_for_model(ResourceType::ApiQuota, "claude", ResourceStatus::Critical, 96.0);
    let protocol = rig.builder().providers(["gpt-4", "claude", "gpt-3.5", "llama"]).build().unwrap();
    let calls = Calls::default();
    let req = FallbackRequest::new(ResourceType::ApiQuota)
        .context(Context::new().model("gpt-4").team("sales-team"))
        .strategies([FallbackStrategy::SwitchProvider]);
    let outcome = protocol
        .execute_request_blocking(req, |a| {
            calls.push(&a);
            Ok::<_, String>(format!("{} says hi", a.model_or("?")))
        })
        .unwrap();
    assert_eq!(outcome.value().unwrap(), "gpt-3.5 says hi");
    assert_eq!(calls.providers(), [Some("gpt-3.5".to_owned())], "gpt-4 and claude were never called");
    let served = outcome.served().unwrap();
    assert_eq!(
        (served.by, served.provider.as_deref()),
        (Some(FallbackStrategy::SwitchProvider), Some("gpt-3.5"))
    );
    let notes: Vec<_> = served.trace.events.iter().filter_map(|e| e.note.clone()).collect();
    assert_eq!(notes, ["api_quota exhausted (100%)", "claude: api_quota critical (96%)"]);
}

#[tokio::test(start_paused = true)]
async fn uses_the_gate_alternatives_and_skips_providers_whose_breaker_is_open() {
    let rig = Rig::new();
    rig.gate.set_alternatives(ResourceType::ApiQuota, ["claude", "mistral"]);
    let registry = Arc::new(CircuitBreakerRegistry::default());
    registry.register(CircuitBreaker::new("claude")).trip();
    let protocol = rig.builder().breakers(registry).build().unwrap();
    let calls = Calls::default();
    let req = FallbackRequest::new(ResourceType::ApiQuota)
        .context(Context::new().model("gpt-4"))
        .strategies([FallbackStrategy::SwitchProvider]);
    let c = calls.clone();
    let outcome = protocol
        .execute(req, move |a| {
            c.push(&a);
            let failing = a.provider.as_deref() == Some("gpt-4");
            async move { if failing { Err("429 Too Many Requests") } else { Ok(a.number) } }
        })
        .await
        .unwrap();
    assert_eq!(calls.providers(), [Some("gpt-4".to_owned()), Some("mistral".to_owned())]);
    assert_eq!(outcome.value(), Some(&2));
    let skipped = outcome.trace().events.iter().find(|e| e.kind == TraceKind::Skipped).unwrap();
    assert_eq!(skipped.note.as_deref(), Some("claude: circuit open"));
}

#[test]
fn no_alternatives_means_exhausted() {
    let rig = Rig::new();
    let protocol = rig.builder().build().unwrap();
    let req =
        FallbackRequest::<()>::new(ResourceType::ApiQuota).strategies([FallbackStrategy::SwitchProvider]);
    let err = protocol.execute_request_blocking(req, |_| Err("boom")).unwrap_err();
    assert_eq!(err.trace().calls(), 1);
    assert_eq!(err.trace().events.last().unwrap().note.as_deref(), Some("no alternative provider"));
    assert_eq!(err.into_inner(), Some("boom"));
}
