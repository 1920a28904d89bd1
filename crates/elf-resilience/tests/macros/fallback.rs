//! `#[with_fallback]` on sync and async functions and methods, through the global protocol.

use std::error::Error;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use elf_resilience::{
    FallbackProtocol, FallbackRejection, InMemoryCache, InMemoryQueue, ManualClock, Priority, QueueWorker,
    RequestQueue, ResourceStatus, ResourceType, StaticGate, TicketResult, TicketStatus, with_circuit_breaker,
    with_fallback, with_retry,
};
use serde::Deserialize;

type BoxError = Box<dyn Error + Send + Sync>;

/// What the global protocol is built on.
struct Global {
    gate: Arc<StaticGate>,
    queue: Arc<InMemoryQueue>,
    clock: ManualClock,
}

/// The global protocol, set once: a hand-set gate, two providers, a cache, a queue, and
/// retries that advance a manual clock instead of sleeping.
fn global() -> &'static Global {
    static GLOBAL: OnceLock<Global> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let gate = Arc::new(StaticGate::new());
        let queue = Arc::new(InMemoryQueue::new());
        let clock = ManualClock::new();
        let sleeper = clock.clone();
        let protocol = FallbackProtocol::builder()
            .gate(gate.clone())
            .providers(["gpt-4", "claude"])
            .cache(
                Arc::new(InMemoryCache::new(100).unwrap()),
                Duration::from_secs(60),
                Duration::from_secs(600),
            )
            .queue(queue.clone())
            .clock(clock.shared())
            .blocking_sleeper(move |d| sleeper.advance(d))
            .build()
            .unwrap();
        FallbackProtocol::set_global(protocol);
        Global { gate, queue, clock }
    })
}

fn gate() -> &'static Arc<StaticGate> {
    &global().gate
}

#[with_fallback(ApiQuota, switch = model, degrade(max_tokens))]
fn call_llm(prompt: &str, model: &str, max_tokens: u32) -> Result<String, BoxError> {
    if model == "claude" && max_tokens > 500 {
        return Err(format!("{model}: {max_tokens} tokens over the remaining budget").into());
    }
    Ok(format!("{model}/{max_tokens}: {prompt}"))
}

#[test]
fn sync_fn_switches_model_then_degrades_max_tokens() {
    gate().set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
    assert_eq!(call_llm("hi", "gpt-4", 2000).unwrap(), "claude/500: hi");
}

static DB_UP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

#[with_fallback(Database, strategies = [Retry, UseCache, CircuitBreak], cache_key = format!("user:{user_id}"))]
async fn get_user(user_id: u32) -> Result<String, BoxError> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    if DB_UP.load(std::sync::atomic::Ordering::SeqCst) {
        Ok(format!("user {user_id}"))
    } else {
        Err("connection refused".into())
    }
}

#[tokio::test(start_paused = true)]
async fn async_fn_answers_from_cache_when_the_database_fails() {
    gate();
    assert_eq!(get_user(7).await.unwrap(), "user 7");
    DB_UP.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(get_user(7).await.unwrap(), "user 7", "served from cache");
    let err = get_user(8).await.unwrap_err();
    assert_eq!(err.to_string(), "connection refused");
}

struct Processor {
    seen: std::sync::Mutex<Vec<usize>>,
}

impl Processor {
    #[with_fallback(Memory, degrade(batch_size))]
    fn process(&self, rows: usize, batch_size: usize) -> Result<usize, BoxError> {
        self.seen.lock().unwrap().push(batch_size);
        Ok(rows.div_ceil(batch_size))
    }
}

#[test]
fn methods_get_a_smaller_batch_under_memory_pressure() {
    gate().set(ResourceType::Memory, ResourceStatus::Critical, 93.0);
    let p = Processor { seen: std::sync::Mutex::new(Vec::new()) };
    assert_eq!(p.process(10_000, 1_000).unwrap(), 20);
    assert_eq!(*p.seen.lock().unwrap(), [500]);
}

#[with_fallback(Cpu)]
fn crunch(n: u64) -> Result<u64, BoxError> {
    Ok(n * 2)
}

#[test]
fn rejections_arrive_through_the_error_type() {
    gate().set(ResourceType::Cpu, ResourceStatus::Exhausted, 100.0);
    let err = crunch(2).unwrap_err();
    assert_eq!(err.to_string(), "request shed: cpu exhausted (100%)");
    let rejection = err.downcast_ref::<elf_resilience::FallbackRejection>().unwrap();
    assert!(rejection.ticket.is_none());
    assert_eq!(Priority::default(), Priority::Normal);
}

static NET_FAILS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[with_circuit_breaker(failure_threshold = 5, name = "fallback-stack")]
#[with_retry(max_retries = 1)]
#[with_fallback(Network, strategies = [SwitchProvider])]
async fn fetch(url: &str) -> Result<String, BoxError> {
    if NET_FAILS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
        return Err(format!("{url}: reset").into());
    }
    Ok(format!("{url}: 200"))
}

#[tokio::test(start_paused = true)]
async fn stacks_under_retry_and_breaker() {
    gate();
    assert_eq!(fetch("http://a").await.unwrap(), "http://a: 200");
    assert_eq!(NET_FAILS.load(std::sync::atomic::Ordering::SeqCst), 3);
}

/// Docker is used by this test alone, so its status does not race the other tests.
#[with_fallback(Docker, strategies = [QueueRequest], queue = "image-builds")]
async fn build_image(tag: &str, layers: u32) -> Result<String, BoxError> {
    Ok(format!("built {tag} ({layers} layers)"))
}

/// The arguments of `build_image`, as the replay handler reads them.
#[derive(Debug, Deserialize)]
struct BuildImage {
    tag: String,
    layers: u32,
}

#[tokio::test(start_paused = true)]
async fn queued_calls_return_their_ticket_and_replay_through_the_named_handler() {
    let g = global();
    assert_eq!(build_image("web:1", 3).await.unwrap(), "built web:1 (3 layers)");
    g.gate.set(ResourceType::Docker, ResourceStatus::Exhausted, 100.0);

    let err = build_image("web:2", 4).await.unwrap_err();
    let rejection = err.downcast_ref::<FallbackRejection>().expect("a queued call is a rejection");
    let ticket = rejection.ticket.clone().expect("the rejection carries the ticket");
    assert_eq!(err.to_string(), format!("request queued as ticket {ticket}"));
    let queued = g.queue.get(&ticket).unwrap().unwrap();
    assert_eq!(queued.handler, "image-builds");
    assert_eq!(queued.payload, serde_json::json!({"tag": "web:2", "layers": 4}));
    assert_eq!(queued.context.operation.as_deref(), Some("build_image"));

    let worker = QueueWorker::new(g.queue.clone(), g.gate.clone()).clock(g.clock.shared()).register_typed(
        "image-builds",
        ResourceType::Docker,
        |b: BuildImage, _ctx| async move { build_image(&b.tag, b.layers).await.map_err(|e| e.to_string()) },
    );
    assert_eq!(worker.run_once().await.unwrap().gated, 1, "no replay while Docker is exhausted");
    assert_eq!(worker.status(&ticket).unwrap(), Some(TicketStatus::Pending));
    g.gate.set(ResourceType::Docker, ResourceStatus::Healthy, 20.0);
    assert_eq!(worker.run_once().await.unwrap().succeeded, 1);
    let done = worker.wait_for(&ticket).await.unwrap();
    assert_eq!(done, TicketResult::Done(Some(serde_json::json!("built web:2 (4 layers)"))));
}

/// K8sPod is used by this test alone. Its body fails on "gpt-4", so the call switches to
/// "claude" and returns that name, which must be `'static`.
#[with_fallback(K8sPod, strategies = [SwitchProvider], switch = model)]
async fn deploy(model: &'static str) -> Result<&'static str, BoxError> {
    tokio::task::yield_now().await;
    if model == "gpt-4" { Err("gpt-4: unavailable".into()) } else { Ok(model) }
}

#[tokio::test(start_paused = true)]
async fn static_str_model_switches_and_the_call_can_be_spawned() {
    gate();
    let spawned = tokio::spawn(deploy("gpt-4"));
    assert_eq!(spawned.await.unwrap().unwrap(), "claude");
    assert_eq!(tokio::spawn(deploy("claude")).await.unwrap().unwrap(), "claude");
}
