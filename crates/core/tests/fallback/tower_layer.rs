//! The fallback protocol as a tower layer, over `service_fn`, with paused time.

use elf_resilience_core::{
    Attempt, Context, DegradeLevel, FallbackError, FallbackLayer, FallbackProtocol, FallbackProtocolBuilder,
    FallbackStrategy, FixedDelay, InMemoryCache, InMemoryQueue, Outcome, QueueWorker, RequestQueue,
    ResourceStatus, ResourceType, StaticGate, TicketResult, TicketStatus, TimeoutLayer, TokioClock,
    TraceKind, WithAttempt,
};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
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
    let json = serde_json::to_value(err.trace()).unwrap();
    let waits: Vec<_> = json["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "waited").collect();
    assert_eq!(waits.len(), 2);
    assert!(waits.iter().all(|e| e["duration_ms"] == 100.0), "{json}");
    assert_eq!(json["elapsed_ms"], 200.0);
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

/// A user lookup keyed by id; `db_up` switches the database on and off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Lookup {
    id: u32,
    fresh: bool,
}

fn database(
    db_up: &Arc<AtomicBool>,
    calls: &Arc<Mutex<u32>>,
) -> impl Service<WithAttempt<Lookup>, Response = String, Error = String, Future: Send> + Clone + Send + 'static
{
    let (db_up, calls) = (db_up.clone(), calls.clone());
    service_fn(move |r: WithAttempt<Lookup>| {
        *calls.lock().unwrap() += 1;
        let up = db_up.load(Ordering::SeqCst);
        async move { if up { Ok(format!("user {}", r.request.id)) } else { Err("connection refused".to_owned()) } }
    })
}

#[tokio::test(start_paused = true)]
async fn use_cache_serves_the_answer_stored_under_the_request_key() {
    let gate = Arc::new(StaticGate::new());
    let cache = Arc::new(InMemoryCache::new(100).unwrap());
    let ttl = Duration::from_secs(60);
    let protocol = builder(&gate).cache(cache, ttl, Duration::from_secs(600)).build().unwrap();
    let (db_up, calls) = (Arc::new(AtomicBool::new(true)), Arc::new(Mutex::new(0)));
    let svc = FallbackLayer::new(protocol, ResourceType::Database)
        .strategies([FallbackStrategy::UseCache])
        .cache_key(|r: &Lookup| (!r.fresh).then(|| format!("user:{}", r.id)))
        .layer(database(&db_up, &calls));
    let cached = |id| Lookup { id, fresh: false };

    let first = svc.clone().oneshot(cached(7)).await.unwrap();
    assert_eq!(first.served().map(|s| s.from_cache), Some(false));
    db_up.store(false, Ordering::SeqCst);
    tokio::time::advance(ttl + Duration::from_secs(1)).await;

    let outcome = svc.clone().oneshot(cached(7)).await.unwrap();
    assert_eq!(outcome.value().map(String::as_str), Some("user 7"));
    assert_eq!(outcome.served_by(), Some(FallbackStrategy::UseCache));
    let served = outcome.served().unwrap();
    assert!(served.from_cache && served.stale, "past its TTL, within the staleness bound");
    assert_eq!(*calls.lock().unwrap(), 2, "the failing database was still asked first");

    let miss = svc.clone().oneshot(cached(8)).await.unwrap_err();
    assert_eq!(miss.trace().events.last().unwrap().note.as_deref(), Some("cache miss"));
    let uncached = svc.oneshot(Lookup { id: 7, fresh: true }).await.unwrap_err();
    assert_eq!(uncached.trace().events.last().unwrap().note.as_deref(), Some("no cache key"));
}

/// An exhausted database behind a gate, an in-memory queue, and a protocol using both.
#[allow(clippy::type_complexity)]
fn exhausted_database_with_queue()
-> (Arc<StaticGate>, Arc<InMemoryQueue>, FallbackProtocol, Arc<AtomicBool>, Arc<Mutex<u32>>) {
    let gate = Arc::new(StaticGate::new());
    gate.set(ResourceType::Database, ResourceStatus::Exhausted, 100.0);
    let queue = Arc::new(InMemoryQueue::new());
    let protocol = builder(&gate).queue(queue.clone()).build().unwrap();
    (gate, queue, protocol, Arc::new(AtomicBool::new(true)), Arc::new(Mutex::new(0)))
}

#[tokio::test(start_paused = true)]
async fn queue_request_enqueues_the_payload_and_a_worker_replays_it() {
    let (gate, queue, protocol, db_up, calls) = exhausted_database_with_queue();
    let svc = FallbackLayer::new(protocol, ResourceType::Database)
        .strategies([FallbackStrategy::Retry, FallbackStrategy::QueueRequest])
        .context_from(|_: &Lookup| Context::new().team("billing"))
        .queue_payload("lookup", |r: &Lookup| r.clone())
        .layer(database(&db_up, &calls));

    let outcome = svc.oneshot(Lookup { id: 7, fresh: true }).await.unwrap();
    let Outcome::Queued { ticket, trace } = outcome else { panic!("expected a queued outcome") };
    assert_eq!(*calls.lock().unwrap(), 0, "an exhausted database is not called");
    assert_eq!(trace.events.last().unwrap().kind, TraceKind::Queued);
    let queued = queue.get(&ticket).unwrap().unwrap();
    assert_eq!((queued.handler.as_str(), queued.status), ("lookup", TicketStatus::Pending));
    assert_eq!(queued.payload, serde_json::json!({"id": 7, "fresh": true}));
    assert_eq!(queued.context.team_name.as_deref(), Some("billing"));

    let worker =
        QueueWorker::new(queue.clone(), gate.clone()).clock(TokioClock::shared()).register_typed(
            "lookup",
            ResourceType::Database,
            |r: Lookup, ctx| async move {
                Ok::<_, String>(format!("user {} for {}", r.id, ctx.team_name.unwrap()))
            },
        );
    assert_eq!(worker.run_once().await.unwrap().gated, 1, "replay waits for the database");
    gate.set(ResourceType::Database, ResourceStatus::Healthy, 10.0);
    assert_eq!(worker.run_once().await.unwrap().succeeded, 1);
    let done = worker.wait_for(&ticket).await.unwrap();
    assert_eq!(done, TicketResult::Done(Some(serde_json::json!("user 7 for billing"))));
}

#[tokio::test(start_paused = true)]
async fn without_a_payload_queue_request_is_skipped_and_says_why() {
    let (_gate, queue, protocol, db_up, calls) = exhausted_database_with_queue();
    let svc = FallbackLayer::new(protocol, ResourceType::Database)
        .strategies([FallbackStrategy::QueueRequest])
        .layer(database(&db_up, &calls));
    let err = svc.oneshot(Lookup { id: 1, fresh: true }).await.unwrap_err();
    assert_eq!(err.trace().events.last().unwrap().note.as_deref(), Some("no queue payload"));
    assert!(queue.list(None, 10).unwrap().is_empty());
}
