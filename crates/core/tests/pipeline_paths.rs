//! A pipeline of the usual shape runs a call flat (each layer's admission in turn, then the
//! operation); any other shape runs it nested, one future per layer. The same calls through
//! both give the same answers, attempts, waits and breaker counts.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_core::{
    Attempt, Bulkhead, CircuitBreaker, Context, FallbackProtocol, FallbackStrategy, FixedDelay, Pipeline,
    ResourceStatus, ResourceType, StaticGate, TokioClock,
};

/// Attempts seen by the operation: (number, provider).
type Log = Arc<Mutex<Vec<(u32, String)>>>;

struct Rig {
    pipeline: Pipeline,
    breaker: CircuitBreaker,
    protocol: FallbackProtocol,
    gate: Arc<StaticGate>,
}

/// Breaker, retry, fallback (switch provider), bulkhead, timeout; `nested` adds a second,
/// roomy bulkhead, which makes the pipeline run nested without changing what it does.
fn rig(nested: bool) -> Rig {
    let gate = Arc::new(StaticGate::new());
    let protocol = FallbackProtocol::builder()
        .gate(gate.clone())
        .clock(TokioClock::shared())
        .providers(["gpt-4", "claude"])
        .build()
        .unwrap();
    let breaker = CircuitBreaker::builder().name("llm").failure_threshold(5).build().unwrap();
    let mut b = Pipeline::builder()
        .circuit_breaker(breaker.clone())
        .retry(FixedDelay::new().with_max_retries(2).with_delay(Duration::from_millis(100)))
        .fallback_with(protocol.clone(), ResourceType::ApiQuota, [FallbackStrategy::SwitchProvider])
        .bulkhead(Bulkhead::new(NonZeroUsize::new(4).unwrap()))
        .timeout(Duration::from_secs(1));
    if nested {
        b = b.bulkhead(Bulkhead::new(NonZeroUsize::new(1000).unwrap()));
    }
    let pipeline = b.build();
    assert!(format!("{pipeline:?}").contains(&format!("flat: {}", !nested)), "{pipeline:?}");
    Rig { pipeline, breaker, protocol, gate }
}

/// What one call through a rig came to.
#[derive(Debug, PartialEq)]
struct Seen {
    answer: String,
    attempts: Vec<(u32, String)>,
    waited: Duration,
    breaker: (u64, u64, u64),
    in_flight: usize,
}

/// Runs the call `op` (given its attempt and how many calls came before) through both shapes.
async fn both<F, Fut>(prepare: impl Fn(&Rig), op: F) -> Seen
where
    F: Fn(Attempt, usize) -> Fut + Sync,
    Fut: std::future::Future<Output = Result<String, String>> + Send,
{
    let mut seen = Vec::new();
    for nested in [false, true] {
        let rig = rig(nested);
        prepare(&rig);
        let log: Log = Arc::default();
        let start = tokio::time::Instant::now();
        let answer = rig
            .pipeline
            .call(Context::new().model("gpt-4"), |a: Attempt| {
                let mut log = log.lock().unwrap();
                log.push((a.number, a.model_or("?").to_owned()));
                op(a, log.len() - 1)
            })
            .await;
        let stats = rig.breaker.stats();
        seen.push(Seen {
            answer: match answer {
                Ok(v) => format!("ok {v}"),
                Err(e) => format!("err {e}"),
            },
            attempts: log.lock().unwrap().clone(),
            waited: start.elapsed(),
            breaker: (stats.total_calls, stats.successful_calls, stats.failed_calls),
            in_flight: rig.protocol.in_flight(),
        });
    }
    let nested = seen.pop().unwrap();
    let flat = seen.pop().unwrap();
    assert_eq!(flat, nested, "flat and nested runs differ");
    flat
}

fn nothing(_: &Rig) {}

#[tokio::test(start_paused = true)]
async fn a_call_answered_at_once_is_one_attempt_and_one_success() {
    let seen = both(nothing, |a, _| async move { Ok(a.model_or("?").to_owned()) }).await;
    assert_eq!(seen.answer, "ok gpt-4");
    assert_eq!(seen.attempts, [(1, "gpt-4".to_owned())]);
    assert_eq!((seen.breaker, seen.in_flight, seen.waited), ((1, 1, 0), 0, Duration::ZERO));
}

#[tokio::test(start_paused = true)]
async fn failures_fall_back_to_the_next_provider_then_are_retried() {
    let seen = both(nothing, |a, n| async move {
        if n < 3 { Err(format!("{} 529", a.model_or("?"))) } else { Ok(format!("{} #{n}", a.model_or("?"))) }
    })
    .await;
    assert_eq!(seen.answer, "ok claude #3");
    let providers: Vec<_> = seen.attempts.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(providers, ["gpt-4", "claude", "gpt-4", "claude"]);
    assert_eq!(seen.waited, Duration::from_millis(100), "one retry delay");
    assert_eq!(seen.breaker, (1, 1, 0), "the breaker outside sees one outcome");
}

#[tokio::test(start_paused = true)]
async fn a_call_that_keeps_failing_ends_with_the_last_error_and_one_breaker_failure() {
    let seen = both(nothing, |a, n| async move { Err(format!("{} down #{n}", a.model_or("?"))) }).await;
    assert_eq!(seen.answer, "err claude down #5");
    assert_eq!(seen.attempts.len(), 6, "three tries of two providers");
    assert_eq!((seen.waited, seen.breaker, seen.in_flight), (Duration::from_millis(200), (1, 0, 1), 0));
}

#[tokio::test(start_paused = true)]
async fn a_slow_first_attempt_times_out_and_the_next_ones_answer() {
    let seen = both(nothing, |a, n| async move {
        if n == 0 {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Ok(format!("{} #{n}", a.model_or("?")))
    })
    .await;
    assert_eq!(seen.answer, "ok claude #1", "the timed-out primary falls back to the next provider");
    assert_eq!(seen.waited, Duration::from_secs(1));
    assert_eq!(seen.breaker, (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_refuses_before_any_attempt() {
    let seen = both(|rig| rig.breaker.trip(), |_, _| async { Ok("never".to_owned()) }).await;
    assert!(seen.answer.starts_with("err ") && seen.answer.contains("OPEN"), "{}", seen.answer);
    assert!(seen.attempts.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_pressured_primary_is_skipped_by_the_fallback_engine() {
    let pressure =
        |rig: &Rig| rig.gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Critical, 95.0);
    let seen = both(pressure, |a, _| async move { Ok(a.model_or("?").to_owned()) }).await;
    assert_eq!(seen.answer, "ok claude");
    assert_eq!(seen.attempts.len(), 1);
    assert_eq!((seen.breaker, seen.in_flight), ((1, 1, 0), 0));
}
