//! A pipeline behaves as the same policies nested by hand: random scripts of attempt outcomes
//! (ok, error, retryable error with a Retry-After hint, slow, panic) run through a pipeline
//! (breaker, retry, fallback switching provider, bulkhead, timeout) and through the same
//! policies called by hand, one inside the other (`CircuitBreaker::call_async`,
//! `Retry::call_async`, `FallbackProtocol::answer`, `Bulkhead::call_async`,
//! `Timeout::call_async`), each on its own paused clock; both give the same result, attempt
//! count and virtual time for every call, and leave the breaker in the same state.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_core::{
    Answer, Attempt, Bulkhead, BulkheadError, CircuitBreaker, CircuitBreakerError, CircuitStats, Context,
    FallbackError, FallbackProtocol, FallbackStrategy, FixedDelay, Pipeline, PipelineError, ResourceType,
    Retry, RetryAfterHint, Timeout, TimeoutError, TokioClock,
};
use futures_util::FutureExt;
use proptest::prelude::*;
use std::num::NonZeroUsize;

const LIMIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
enum Step {
    Ok,
    /// A permanent error: not retried.
    Fail,
    /// A retryable error asking to wait this many milliseconds.
    Busy(u64),
    /// Answers after this many milliseconds (past the timeout when over 1000).
    Slow(u64),
    Panic,
}

#[derive(Debug, Clone, PartialEq)]
enum OpError {
    Fail,
    Busy(u64),
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl RetryAfterHint for OpError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            OpError::Busy(ms) => Some(Duration::from_millis(*ms)),
            OpError::Fail => None,
        }
    }
}

/// What a call came to, in terms both shapes share.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// The attempt number and provider that answered.
    Ok(u32, String),
    Failed(OpError),
    TimedOut,
    Open,
    Panicked,
}

/// One call: what it came to, how many attempts it made, how long it took (virtual ms).
type Record = (Seen, usize, u128);

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Ok),
        1 => Just(Step::Fail),
        2 => (0u64..3000).prop_map(Step::Busy),
        2 => (0u64..2000).prop_map(Step::Slow),
        1 => Just(Step::Panic),
    ]
}

/// The operation: plays the next step of the script (an exhausted script answers `Ok`).
fn play(
    script: &Mutex<VecDeque<Step>>,
    a: &Attempt,
) -> impl Future<Output = Result<Got, OpError>> + Send + use<> {
    let step = script.lock().unwrap().pop_front().unwrap_or(Step::Ok);
    let got = (a.number, a.model_or("?").to_owned());
    async move {
        match step {
            Step::Ok => Ok(got),
            Step::Fail => Err(OpError::Fail),
            Step::Busy(ms) => Err(OpError::Busy(ms)),
            Step::Slow(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(got)
            }
            Step::Panic => panic!("op panicked"),
        }
    }
}

/// What the operation answers: the attempt's number and provider.
type Got = (u32, String);

const ORDER: [FallbackStrategy; 1] = [FallbackStrategy::SwitchProvider];

fn protocol() -> FallbackProtocol {
    FallbackProtocol::builder().clock(TokioClock::shared()).providers(["gpt-4", "claude"]).build().unwrap()
}

fn bulkhead() -> Bulkhead {
    Bulkhead::new(NonZeroUsize::new(4).unwrap())
}

fn breaker() -> CircuitBreaker {
    let b = CircuitBreaker::builder()
        .name("model")
        .failure_threshold(3)
        .recovery_timeout(Duration::from_secs(10));
    b.clock(TokioClock::shared()).build().unwrap()
}

fn backoff() -> FixedDelay {
    FixedDelay::new().with_max_retries(3).with_delay(Duration::from_millis(100))
}

/// Runs `calls` scripts one after another, `gap` apart, on a fresh paused clock.
fn drive<F, Fut>(calls: &[Vec<Step>], gap: Duration, call: F) -> Vec<Record>
where
    F: Fn(Arc<Mutex<VecDeque<Step>>>, Arc<Mutex<usize>>) -> Fut,
    Fut: Future<Output = Seen>,
{
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    rt.block_on(async {
        let mut records = Vec::new();
        for script in calls {
            let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
            let attempts = Arc::new(Mutex::new(0));
            let start = tokio::time::Instant::now();
            let seen = call(script, attempts.clone()).await;
            let n = *attempts.lock().unwrap();
            records.push((seen, n, start.elapsed().as_millis()));
            tokio::time::sleep(gap).await;
        }
        records
    })
}

fn through_pipeline(calls: &[Vec<Step>], gap: Duration) -> (Vec<Record>, CircuitStats) {
    let cb = breaker();
    let retry = Retry::new(backoff())
        .retry_if(|e: &PipelineError<OpError>| !matches!(e, PipelineError::Inner(OpError::Fail)))
        .retry_after_hint()
        .max_elapsed(Duration::from_secs(4));
    let pipeline = Pipeline::builder()
        .circuit_breaker(cb.clone())
        .retry(retry)
        .fallback_with(protocol(), ResourceType::ApiQuota, ORDER)
        .bulkhead(bulkhead())
        .timeout(LIMIT)
        .build();
    let records = drive(calls, gap, |script, attempts| {
        let pipeline = pipeline.clone();
        async move {
            let op = |a: Attempt| {
                *attempts.lock().unwrap() += 1;
                play(&script, &a)
            };
            let out = AssertUnwindSafe(pipeline.call(Context::new(), op)).catch_unwind().await;
            match out {
                Err(_) => Seen::Panicked,
                Ok(Ok((n, provider))) => Seen::Ok(n, provider),
                Ok(Err(PipelineError::Inner(e))) => Seen::Failed(e),
                Ok(Err(PipelineError::Timeout(_))) => Seen::TimedOut,
                Ok(Err(PipelineError::CircuitOpen(_))) => Seen::Open,
                Ok(Err(other)) => panic!("unexpected refusal {other}"),
            }
        }
    });
    (records, cb.stats())
}

/// The error the retry sees when the policies are called by hand.
type HandError = FallbackError<BulkheadError<TimeoutError<OpError>>>;

/// The operation's own error (or the timeout) inside what the retry sees.
fn last(e: &HandError) -> Option<&TimeoutError<OpError>> {
    match e {
        FallbackError::Exhausted { last: Some(BulkheadError::Inner(inner)), .. } => Some(inner),
        _ => None,
    }
}

fn nested_by_hand(calls: &[Vec<Step>], gap: Duration) -> (Vec<Record>, CircuitStats) {
    let (cb, protocol, bulkhead, timeout) = (breaker(), protocol(), bulkhead(), Timeout::new(LIMIT));
    let retry = Retry::new(backoff())
        .retry_if(|e: &HandError| last(e).is_some_and(|e| !matches!(e, TimeoutError::Inner(OpError::Fail))))
        .hint(|e: &HandError| last(e).and_then(RetryAfterHint::retry_after))
        .max_elapsed(Duration::from_secs(4));
    let records = drive(calls, gap, |script, attempts| {
        let (cb, retry, protocol, bulkhead) = (cb.clone(), retry.clone(), protocol.clone(), bulkhead.clone());
        async move {
            let ctx = Context::new();
            let op = |a: Attempt| {
                *attempts.lock().unwrap() += 1;
                bulkhead.call_async(timeout.call_async(play(&script, &a)))
            };
            let fallback = || protocol.answer(&ctx, ResourceType::ApiQuota, &ORDER, op);
            let out = AssertUnwindSafe(cb.call_async(|| retry.call_async(fallback))).catch_unwind().await;
            match out {
                Err(_) => Seen::Panicked,
                Ok(Ok(Answer::Value((n, provider)))) => Seen::Ok(n, provider),
                Ok(Err(CircuitBreakerError::Open(_))) => Seen::Open,
                Ok(Err(CircuitBreakerError::Inner(e))) => {
                    match e.into_last().map_err(|e| last(&e).cloned()) {
                        Err(Some(TimeoutError::Inner(e))) => Seen::Failed(e),
                        Err(Some(TimeoutError::Elapsed(_))) => Seen::TimedOut,
                        other => panic!("unexpected retry end {other:?}"),
                    }
                }
                Ok(other) => panic!("unexpected end {other:?}"),
            }
        }
    });
    (records, cb.stats())
}

fn quiet_op_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"op panicked") {
            default(info);
        }
    }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_pipeline_agrees_with_the_policies_nested_by_hand(
        calls in prop::collection::vec(prop::collection::vec(step(), 0..6), 1..12),
        gap_ms in 0u64..12_000,
    ) {
        quiet_op_panics();
        let gap = Duration::from_millis(gap_ms);
        let (piped, piped_stats) = through_pipeline(&calls, gap);
        let (nested, nested_stats) = nested_by_hand(&calls, gap);
        prop_assert_eq!(&piped, &nested);
        prop_assert_eq!(piped_stats.state, nested_stats.state);
        prop_assert_eq!(
            (piped_stats.successful_calls, piped_stats.failed_calls, piped_stats.rejected_calls),
            (nested_stats.successful_calls, nested_stats.failed_calls, nested_stats.rejected_calls)
        );
    }
}

/// The case: a 429 saying `retry-after: 20` is retried after 20 s, not the backoff's
/// 100 ms.
#[tokio::test(start_paused = true)]
async fn a_retry_after_hint_sets_the_wait_inside_a_pipeline() {
    let retry = Retry::new(backoff()).retry_after_hint();
    let pipeline = Pipeline::builder().retry(retry).build();
    let script = Mutex::new(VecDeque::from([Step::Busy(20_000), Step::Ok]));
    let start = tokio::time::Instant::now();
    let out = pipeline.call(Context::new(), |a| play(&script, &a)).await;
    assert_eq!(out.unwrap(), (2, "?".to_owned()));
    assert_eq!(start.elapsed(), Duration::from_secs(20));
}
