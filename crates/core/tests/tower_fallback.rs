//! The fallback protocol as a tower layer, over `service_fn`, with paused time.
#![cfg(feature = "tower")]

use elf_resilience_core::{
    Attempt, Context, DegradeLevel, FallbackError, FallbackLayer, FallbackProtocol, FallbackProtocolBuilder,
    FallbackStrategy, FixedDelay, ResourceStatus, ResourceType, StaticGate, TimeoutLayer, TokioClock,
    TraceKind, WithAttempt,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt, service_fn};

/// Every attempt the inner service received.
type Seen = Arc<Mutex<Vec<Attempt>>>;

fn builder(gate: &Arc<StaticGate>) -> FallbackProtocolBuilder {
    FallbackProtocol::builder()
        .gate(gate.clone())
        .clock(TokioClock::shared())
        .retry_backoff(FixedDelay::new().with_max_retries(2).with_delay(Duration::from_millis(100)))
}

/// An LLM stand-in: fails with 429 for the providers in `down`, else echoes provider and
/// scaled max_tokens.
fn llm(
    seen: &Seen,
    down: &'static [&'static str],
) -> impl Service<WithAttempt<u32>, Response = (String, u32), Error = String, Future: Send> + Clone + Send + 'static
{
    let seen = seen.clone();
    service_fn(move |r: WithAttempt<u32>| {
        seen.lock().unwrap().push(r.attempt.clone());
        let model = r.attempt.model_or("none").to_owned();
        let tokens = r.attempt.max_tokens(r.request);
        async move {
            if down.contains(&model.as_str()) { Err(format!("{model}: 429")) } else { Ok((model, tokens)) }
        }
    })
}

fn providers(seen: &Seen) -> Vec<Option<String>> {
    seen.lock().unwrap().iter().map(|a| a.provider.clone()).collect()
}

fn gpt4(_: &u32) -> Context {
    Context::new().model("gpt-4").team("sales")
}

#[tokio::test(start_paused = true)]
async fn switches_provider_when_the_inner_service_fails() {
    let gate = Arc::new(StaticGate::new());
    let protocol = builder(&gate).providers(["gpt-4", "claude", "gpt-3.5"]).build().unwrap();
    let seen = Seen::default();
    let layer = FallbackLayer::new(protocol, ResourceType::ApiQuota)
        .strategies([FallbackStrategy::SwitchProvider])
        .context_from(gpt4);
    let svc = layer.layer(llm(&seen, &["gpt-4", "claude"]));
    let outcome = svc.oneshot(2000).await.unwrap();
    assert_eq!(outcome.value(), Some(&("gpt-3.5".to_owned(), 2000)));
    assert_eq!(outcome.served_by(), Some(FallbackStrategy::SwitchProvider));
    let expected = ["gpt-4", "claude", "gpt-3.5"].map(|p| Some(p.to_owned()));
    assert_eq!(providers(&seen), expected);
    let attempts = seen.lock().unwrap().clone();
    assert_eq!(attempts.iter().map(|a| a.number).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        attempts[2].context.team_name.as_deref(),
        Some("sales"),
        "context from the request reaches the service"
    );
}

#[tokio::test(start_paused = true)]
async fn degrade_knobs_reach_the_inner_service() {
    let gate = Arc::new(StaticGate::new());
    let protocol = builder(&gate).build().unwrap();
    let seen = Seen::default();
    let s = seen.clone();
    let budget = service_fn(move |r: WithAttempt<u32>| {
        s.lock().unwrap().push(r.attempt.clone());
        let tokens = r.attempt.max_tokens(r.request);
        async move { if tokens > 500 { Err(format!("{tokens} over budget")) } else { Ok(tokens) } }
    });
    let svc = FallbackLayer::new(protocol, ResourceType::ApiQuota)
        .strategies([FallbackStrategy::DegradeService])
        .layer(budget);
    let outcome = svc.oneshot(2000).await.unwrap();
    assert_eq!(outcome.value(), Some(&500));
    let levels: Vec<usize> = seen.lock().unwrap().iter().map(|a| a.degrade.level).collect();
    assert_eq!(levels, [0, 1, 2]);
    assert_eq!(outcome.served().unwrap().degrade_level, 2);
}

#[tokio::test(start_paused = true)]
async fn a_critical_resource_applies_the_strategy_before_calling() {
    let gate = Arc::new(StaticGate::new());
    gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
    gate.set(ResourceType::Memory, ResourceStatus::Critical, 95.0);
    let protocol = builder(&gate)
        .providers(["gpt-4", "claude"])
        .degrade_levels([DegradeLevel::FULL, DegradeLevel::uniform(1, 0.1)]);
    let protocol = protocol.build().unwrap();

    let seen = Seen::default();
    let quota = FallbackLayer::new(protocol.clone(), ResourceType::ApiQuota).context_from(gpt4);
    let outcome = quota.layer(llm(&seen, &[])).oneshot(2000).await.unwrap();
    assert_eq!(outcome.value(), Some(&("claude".to_owned(), 2000)));
    assert_eq!(providers(&seen), [Some("claude".to_owned())], "the exhausted provider was never called");

    let seen = Seen::default();
    let memory = FallbackLayer::new(protocol, ResourceType::Memory).context_from(gpt4);
    let outcome = memory.layer(llm(&seen, &[])).oneshot(2000).await.unwrap();
    assert_eq!(outcome.value(), Some(&("gpt-4".to_owned(), 200)), "critical memory: degraded from the start");
    assert_eq!(seen.lock().unwrap().iter().map(|a| a.degrade.level).collect::<Vec<_>>(), [1]);
}

#[tokio::test(start_paused = true)]
async fn retries_wait_in_paused_time_and_exhaustion_returns_the_last_error() {
    let gate = Arc::new(StaticGate::new());
    let seen = Seen::default();
    let protocol = builder(&gate).build().unwrap();
    let layer = FallbackLayer::new(protocol, ResourceType::Network)
        .strategies([FallbackStrategy::Retry])
        .context_from(gpt4);
    let start = tokio::time::Instant::now();
    let err = layer.layer(llm(&seen, &["gpt-4"])).oneshot(7).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_millis(200), "two retries 100 ms apart");
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert!(matches!(&err, FallbackError::Exhausted { resource: ResourceType::Network, .. }), "{err}");
    assert_eq!(err.trace().calls(), 3);
    assert_eq!(err.into_inner().as_deref(), Some("gpt-4: 429"));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_inside_the_fallback_switches_away_from_a_slow_provider() {
    let gate = Arc::new(StaticGate::new());
    let protocol = builder(&gate).providers(["gpt-4", "claude"]).build().unwrap();
    let slow_gpt4 = service_fn(|r: WithAttempt<u32>| async move {
        let model = r.attempt.model_or("none").to_owned();
        if model == "gpt-4" {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Ok::<_, String>(model)
    });
    let svc = tower::ServiceBuilder::new()
        .layer(
            FallbackLayer::new(protocol, ResourceType::ApiQuota)
                .strategies([FallbackStrategy::SwitchProvider])
                .context_from(gpt4),
        )
        .layer(TimeoutLayer::new(Duration::from_secs(1)))
        .service(slow_gpt4);
    let start = tokio::time::Instant::now();
    let outcome = svc.oneshot(1).await.unwrap();
    assert_eq!(outcome.value().map(String::as_str), Some("claude"));
    assert_eq!(start.elapsed(), Duration::from_secs(1), "gpt-4 was cut off after the timeout");
    let failed = outcome.trace().events.iter().find(|e| e.kind == TraceKind::Failed).unwrap();
    assert_eq!(failed.provider.as_deref(), Some("gpt-4"));
}
