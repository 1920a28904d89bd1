//! Pipelines: layering, each layer's refusals, and fallback inside retry inside a breaker.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use elf_resilience_core::{
    Bulkhead, CircuitBreaker, Context, FallbackProtocol, FallbackStrategy, FixedDelay, InMemoryQueue,
    ManualClock, Pipeline, PipelineError, RateLimiter, ResourceStatus, ResourceType, StaticGate, TokioClock,
};

fn fixed(n: u32, ms: u64) -> FixedDelay {
    FixedDelay::new().with_max_retries(n).with_delay(Duration::from_millis(ms))
}

#[test]
fn sorts_into_the_recommended_layering_unless_told_otherwise() {
    let build = |b: elf_resilience_core::PipelineBuilder<String>| {
        b.timeout(Duration::from_secs(1))
            .bulkhead(Bulkhead::new(NonZeroUsize::new(4).unwrap()))
            .fallback(FallbackProtocol::default(), ResourceType::ApiQuota)
            .retry(fixed(1, 1))
            .circuit_breaker(CircuitBreaker::new("p"))
            .build()
    };
    let sorted = build(Pipeline::builder());
    assert_eq!(sorted.layer_names(), ["circuit_breaker", "retry", "fallback", "bulkhead", "timeout"]);
    let given = build(Pipeline::builder().in_given_order());
    assert_eq!(given.layer_names(), ["timeout", "bulkhead", "fallback", "retry", "circuit_breaker"]);
}

#[tokio::test(start_paused = true)]
async fn the_breaker_sees_one_outcome_per_retried_call() {
    let cb = CircuitBreaker::builder().name("llm").failure_threshold(2).build().unwrap();
    let pipeline = Pipeline::builder().retry(fixed(3, 100)).circuit_breaker(cb.clone()).build();
    let calls = AtomicU32::new(0);
    let op = |a: elf_resilience_core::Attempt| {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        async move { if n < 3 { Err(format!("blip {n}")) } else { Ok(a.number) } }
    };
    let start = tokio::time::Instant::now();
    assert_eq!(pipeline.call(Context::new(), op).await.unwrap(), 3);
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    let stats = cb.stats();
    assert_eq!((stats.total_calls, stats.successful_calls, stats.failed_calls), (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_refuses_without_calling() {
    let cb = CircuitBreaker::new("down");
    cb.trip();
    let pipeline = Pipeline::builder().circuit_breaker(cb).retry(fixed(3, 10)).build();
    let calls = AtomicU32::new(0);
    let err = pipeline
        .call(Context::new(), |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<u8, String>(1) }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::CircuitOpen(_)));
    assert!(err.retry_after().is_some());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_retried_and_reported() {
    let pipeline = Pipeline::builder().timeout(Duration::from_secs(1)).retry(fixed(2, 500)).build();
    let start = tokio::time::Instant::now();
    let err = pipeline
        .call(Context::new(), |_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<u8, String>(1)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::Timeout(d) if d == Duration::from_secs(1)));
    assert_eq!(start.elapsed(), Duration::from_secs(4), "three 1 s timeouts and two 500 ms delays");
}

#[tokio::test(start_paused = true)]
async fn bulkhead_and_rate_limiter_refuse_with_their_own_errors() {
    let clock = ManualClock::new();
    let limiter =
        RateLimiter::builder().per_second(NonZeroU32::new(1).unwrap()).clock(clock.shared()).build().unwrap();
    let pipeline = Pipeline::builder().rate_limiter(Arc::new(limiter)).build();
    assert_eq!(pipeline.call(Context::new(), |_| async { Ok::<_, String>(1) }).await.unwrap(), 1);
    let limited = pipeline.call(Context::new(), |_| async { Ok::<_, String>(2) }).await.unwrap_err();
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(1)));

    let bulkhead = Bulkhead::new(NonZeroUsize::new(1).unwrap());
    let _held = bulkhead.try_acquire().unwrap();
    let pipeline = Pipeline::builder().bulkhead(bulkhead.clone()).build();
    let shed = pipeline.call(Context::new(), |_| async { Ok::<_, String>(3) }).await.unwrap_err();
    assert!(matches!(shed, PipelineError::Bulkhead(_)), "{shed}");
}

#[tokio::test(start_paused = true)]
async fn fallback_inside_switches_provider_and_keeps_the_last_error() {
    let gate = Arc::new(StaticGate::new());
    gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
    let protocol = FallbackProtocol::builder()
        .gate(gate.clone())
        .clock(TokioClock::shared())
        .providers(["gpt-4", "claude"])
        .queue(Arc::new(InMemoryQueue::new()))
        .build()
        .unwrap();
    let pipeline = Pipeline::builder()
        .circuit_breaker(CircuitBreaker::new("llm-pipeline"))
        .retry(fixed(1, 10))
        .fallback_with(protocol.clone(), ResourceType::ApiQuota, [FallbackStrategy::SwitchProvider])
        .timeout(Duration::from_secs(30))
        .build();
    let answer = pipeline
        .call(Context::new().model("gpt-4"), |a| async move { Ok::<_, String>(a.model_or("?").to_owned()) })
        .await
        .unwrap();
    assert_eq!(answer, "claude");

    let failing = pipeline
        .call(Context::new().model("gpt-4"), |a| async move {
            Err::<String, _>(format!("{} 529", a.model_or("?")))
        })
        .await
        .unwrap_err();
    assert_eq!(failing.into_inner().as_deref(), Some("claude 529"), "retried once, last error kept");
}
