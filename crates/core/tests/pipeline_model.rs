//! A pipeline behaves as the same policies nested by hand: random scripts of attempt outcomes
//! (ok, error, retryable error with a Retry-After hint, slow, panic) run through a pipeline
//! (breaker, retry, timeout) and through `CircuitBreaker::call_async(Retry::call_async(
//! Timeout::call_async(op)))`, each on its own paused clock; both give the same result,
//! attempt count and virtual time for every call, and leave the breaker in the same state.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elf_resilience_core::{
    Attempt, CircuitBreaker, CircuitBreakerError, CircuitStats, Context, FixedDelay, Pipeline, PipelineError,
    Retry, RetryAfterHint, Timeout, TimeoutError, TokioClock,
};
use futures_util::FutureExt;
use proptest::prelude::*;

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
    Ok(u32),
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
fn play(script: &Mutex<VecDeque<Step>>, number: u32) -> impl Future<Output = Result<u32, OpError>> + Send {
    let step = script.lock().unwrap().pop_front().unwrap_or(Step::Ok);
    async move {
        match step {
            Step::Ok => Ok(number),
            Step::Fail => Err(OpError::Fail),
            Step::Busy(ms) => Err(OpError::Busy(ms)),
            Step::Slow(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(number)
            }
            Step::Panic => panic!("op panicked"),
        }
    }
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
    let pipeline = Pipeline::builder().circuit_breaker(cb.clone()).retry(retry).timeout(LIMIT).build();
    let records = drive(calls, gap, |script, attempts| {
        let pipeline = pipeline.clone();
        async move {
            let op = |a: Attempt| {
                *attempts.lock().unwrap() += 1;
                play(&script, a.number)
            };
            let out = AssertUnwindSafe(pipeline.call(Context::new(), op)).catch_unwind().await;
            match out {
                Err(_) => Seen::Panicked,
                Ok(Ok(n)) => Seen::Ok(n),
                Ok(Err(PipelineError::Inner(e))) => Seen::Failed(e),
                Ok(Err(PipelineError::Timeout(_))) => Seen::TimedOut,
                Ok(Err(PipelineError::CircuitOpen(_))) => Seen::Open,
                Ok(Err(other)) => panic!("unexpected refusal {other}"),
            }
        }
    });
    (records, cb.stats())
}

fn nested_by_hand(calls: &[Vec<Step>], gap: Duration) -> (Vec<Record>, CircuitStats) {
    let cb = breaker();
    let retry = Retry::new(backoff())
        .retry_if(|e: &TimeoutError<OpError>| !matches!(e, TimeoutError::Inner(OpError::Fail)))
        .retry_after_hint()
        .max_elapsed(Duration::from_secs(4));
    let timeout = Timeout::new(LIMIT);
    let records = drive(calls, gap, |script, attempts| {
        let (cb, retry) = (cb.clone(), retry.clone());
        async move {
            let mut number = 0;
            let once = || {
                number += 1;
                *attempts.lock().unwrap() += 1;
                timeout.call_async(play(&script, number))
            };
            let out = AssertUnwindSafe(cb.call_async(|| retry.call_async(once))).catch_unwind().await;
            match out {
                Err(_) => Seen::Panicked,
                Ok(Ok(n)) => Seen::Ok(n),
                Ok(Err(CircuitBreakerError::Open(_))) => Seen::Open,
                Ok(Err(CircuitBreakerError::Inner(e))) => match e.into_last() {
                    Err(TimeoutError::Inner(e)) => Seen::Failed(e),
                    Err(TimeoutError::Elapsed(_)) => Seen::TimedOut,
                    other => panic!("unexpected retry end {other:?}"),
                },
                Ok(Err(other)) => panic!("unexpected breaker error {other}"),
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
    let out = pipeline.call(Context::new(), |a| play(&script, a.number)).await;
    assert_eq!(out.unwrap(), 2);
    assert_eq!(start.elapsed(), Duration::from_secs(20));
}
