//! Pipelines: the order of the layers changes what a call sees, and each layer acts inside a
//! pipeline as it does alone (on tokio's paused clock).

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_core::{
    Attempt, Bulkhead, CircuitBreaker, CircuitState, Context, FallbackProtocol, FallbackStage,
    FallbackStrategy, FixedDelay, Pipeline, PipelineError, ResourceStatus, ResourceType, StaticGate,
    TokioClock,
};
use tokio::time::{Instant, sleep};

fn fixed(n: u32, ms: u64) -> FixedDelay {
    FixedDelay::new().with_max_retries(n).with_delay(Duration::from_millis(ms))
}

async fn failing(_: Attempt) -> Result<u8, String> {
    Err("down".into())
}

#[tokio::test(start_paused = true)]
async fn a_timeout_outside_the_retry_bounds_all_attempts_and_inside_each_one() {
    let outer =
        Pipeline::builder().timeout(Duration::from_secs(1)).retry(fixed(5, 500)).in_given_order().build();
    let start = Instant::now();
    let err = outer.call(Context::new(), failing).await.unwrap_err();
    assert!(matches!(err, PipelineError::Timeout(_)), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(1));

    let sorted = Pipeline::builder().timeout(Duration::from_secs(1)).retry(fixed(5, 500)).build();
    assert_eq!(sorted.layer_names(), ["retry", "timeout"]);
    let start = Instant::now();
    let err = sorted.call(Context::new(), failing).await.unwrap_err();
    assert_eq!(err.into_inner().as_deref(), Some("down"));
    assert_eq!(start.elapsed(), Duration::from_millis(2500), "five delays, each attempt failing at once");
}

#[tokio::test(start_paused = true)]
async fn a_breaker_inside_the_retry_counts_every_attempt_and_stops_the_retries_once_open() {
    let cb = CircuitBreaker::builder().name("inner").failure_threshold(2).build().unwrap();
    let pipeline =
        Pipeline::builder().retry(fixed(5, 10)).circuit_breaker(cb.clone()).in_given_order().build();
    let calls = AtomicU32::new(0);
    let err = pipeline
        .call(Context::new(), |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<u8, _>("down".to_owned()) }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::CircuitOpen(_)), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the open breaker ends the retries");
    assert_eq!(cb.state(), CircuitState::Open);
    assert_eq!(cb.stats().failed_calls, 2);
}

/// Two 100 ms delays, counting how often they are cloned.
struct Counted {
    clones: Arc<AtomicU32>,
    left: u32,
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Self { clones: self.clones.clone(), left: self.left }
    }
}

impl Iterator for Counted {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.left = self.left.checked_sub(1)?;
        Some(Duration::from_millis(100))
    }
}

#[tokio::test(start_paused = true)]
async fn the_retry_layer_makes_its_delays_only_when_a_call_fails() {
    let clones = Arc::new(AtomicU32::new(0));
    let pipeline = Pipeline::builder().retry(Counted { clones: clones.clone(), left: 2 }).build();
    assert_eq!(pipeline.call(Context::new(), |a| async move { Ok::<_, String>(a.number) }).await.unwrap(), 1);
    assert_eq!(clones.load(Ordering::SeqCst), 0, "a first-try success makes no delays");
    let start = Instant::now();
    let answer = pipeline
        .call(
            Context::new(),
            |a| async move { if a.number < 3 { Err("again".to_owned()) } else { Ok(a.number) } },
        )
        .await;
    assert_eq!(answer.unwrap(), 3);
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    assert_eq!(clones.load(Ordering::SeqCst), 1, "one set of delays for the failing call");
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_is_waited_on_up_to_its_limit_inside_a_pipeline() {
    let bulkhead =
        Bulkhead::builder(NonZeroUsize::new(1).unwrap()).max_wait(Duration::from_millis(100)).build();
    let pipeline = Pipeline::builder().bulkhead(bulkhead.clone()).build();
    let held = bulkhead.try_acquire().unwrap();
    tokio::spawn(async move {
        sleep(Duration::from_millis(60)).await;
        drop(held);
    });
    let start = Instant::now();
    assert_eq!(pipeline.call(Context::new(), |_| async { Ok::<_, String>(7) }).await.unwrap(), 7);
    assert_eq!(start.elapsed(), Duration::from_millis(60));
    assert_eq!(bulkhead.in_flight(), 0, "the slot is given back");

    let _held = bulkhead.try_acquire().unwrap();
    let err = pipeline.call(Context::new(), |_| async { Ok::<_, String>(8) }).await.unwrap_err();
    assert!(matches!(err, PipelineError::Bulkhead(_)), "{err}");
    assert_eq!(start.elapsed(), Duration::from_millis(160), "waited its 100 ms, then shed");
}

#[tokio::test(start_paused = true)]
async fn a_timeout_lets_a_slow_call_finish_within_its_limit_and_cuts_one_past_it() {
    let pipeline = Pipeline::builder().timeout(Duration::from_millis(300)).build();
    let slow = |ms: u64| {
        move |_: Attempt| async move {
            sleep(Duration::from_millis(ms)).await;
            Ok::<_, String>(ms)
        }
    };
    let start = Instant::now();
    assert_eq!(pipeline.call(Context::new(), slow(299)).await.unwrap(), 299);
    let err = pipeline.call(Context::new(), slow(301)).await.unwrap_err();
    assert!(matches!(err, PipelineError::Timeout(d) if d == Duration::from_millis(300)), "{err}");
    assert_eq!(start.elapsed(), Duration::from_millis(599));
}

#[tokio::test(start_paused = true)]
async fn the_fallback_layer_calls_the_first_provider_and_leaves_nothing_in_flight() {
    let protocol = FallbackProtocol::builder().providers(["gpt-4", "claude"]).build().unwrap();
    let pipeline = Pipeline::builder().fallback(protocol.clone(), ResourceType::ApiQuota).build();
    let seen = Mutex::new(Vec::new());
    let answer = pipeline
        .call(Context::new().team("t"), |a| {
            seen.lock().unwrap().push((
                a.number,
                a.strategy,
                a.model_or("?").to_owned(),
                a.context.team_name.clone(),
            ));
            async { Ok::<_, String>("ok") }
        })
        .await;
    assert_eq!(answer.unwrap(), "ok");
    assert_eq!(*seen.lock().unwrap(), [(1, None, "gpt-4".to_owned(), Some("t".to_owned()))]);
    assert_eq!(protocol.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_fallback_layer_runs_hooks_and_skips_a_pressured_primary() {
    let stages = Arc::new(Mutex::new(Vec::new()));
    let log = stages.clone();
    let gate = Arc::new(StaticGate::new());
    gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Critical, 95.0);
    let protocol = FallbackProtocol::builder()
        .gate(gate)
        .clock(TokioClock::shared())
        .providers(["gpt-4", "claude"])
        .on_event(move |e| {
            log.lock().unwrap().push(e.stage);
            async {}
        })
        .build()
        .unwrap();
    let pipeline = Pipeline::builder()
        .fallback_with(protocol, ResourceType::ApiQuota, [FallbackStrategy::SwitchProvider])
        .build();
    let answer = pipeline
        .call(Context::new(), |a| async move { Ok::<_, String>(a.model_or("?").to_owned()) })
        .await
        .unwrap();
    assert_eq!(answer, "claude", "the pressured primary is skipped");
    let stages = stages.lock().unwrap();
    assert_eq!(stages.first(), Some(&FallbackStage::StrategyChanged));
    assert_eq!(stages.last(), Some(&FallbackStage::Served));
}

#[tokio::test(start_paused = true)]
async fn a_pipeline_deeper_than_six_layers_runs_every_layer() {
    let outer = CircuitBreaker::new("outer");
    let inner = CircuitBreaker::new("inner");
    let pipeline = Pipeline::builder()
        .circuit_breaker(outer.clone())
        .timeout(Duration::from_secs(10))
        .retry(fixed(2, 100))
        .bulkhead(Bulkhead::new(NonZeroUsize::new(2).unwrap()))
        .fallback(FallbackProtocol::default(), ResourceType::ApiQuota)
        .retry(fixed(1, 10))
        .circuit_breaker(inner.clone())
        .timeout(Duration::from_secs(1))
        .in_given_order()
        .build();
    assert_eq!(pipeline.layer_names().len(), 8);
    let calls = AtomicU32::new(0);
    let answer = pipeline
        .call(Context::new(), |_| {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            async move { if n < 3 { Err(format!("blip {n}")) } else { Ok(n) } }
        })
        .await;
    assert_eq!(answer.unwrap(), 3);
    assert_eq!((outer.stats().successful_calls, outer.stats().failed_calls), (1, 0));
    assert_eq!((inner.stats().successful_calls, inner.stats().failed_calls), (1, 2));
}
