//! The attribute macros on sync and async functions and methods, alone and stacked.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use elf_resilience::{
    CircuitBreakerRegistry, CircuitOpen, CircuitState, ExponentialBackoff, FixedDelay, ManualClock,
    with_circuit_breaker, with_retry,
};

#[derive(Debug, PartialEq)]
enum ApiError {
    Transient(u32),
    Fatal,
    Open(String),
}

impl From<CircuitOpen> for ApiError {
    fn from(open: CircuitOpen) -> Self {
        ApiError::Open(open.name.to_string())
    }
}

/// A backoff with no waiting, so the tests take no time.
const INSTANT: FixedDelay = FixedDelay::new().with_delay(Duration::ZERO).with_max_retries(4);

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

#[with_retry(backoff = INSTANT)]
fn flaky_operation(succeed_on: u32) -> Result<String, ApiError> {
    let n = FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    if n < succeed_on {
        return Err(ApiError::Transient(n));
    }
    Ok(format!("Success on attempt {n}"))
}

#[test]
fn sync_function_is_retried_until_success() {
    assert_eq!(flaky_operation(3), Ok("Success on attempt 3".to_string()));
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 3);
}

static FATAL_CALLS: AtomicU32 = AtomicU32::new(0);

#[with_retry(backoff = INSTANT, retry_if = |e: &ApiError| matches!(e, ApiError::Transient(_)))]
fn fails_fatally() -> Result<(), ApiError> {
    FATAL_CALLS.fetch_add(1, Ordering::SeqCst);
    Err(ApiError::Fatal)
}

#[test]
fn retry_if_stops_on_other_errors_and_keeps_the_signature() {
    let err: ApiError = fails_fatally().unwrap_err();
    assert_eq!(err, ApiError::Fatal);
    assert_eq!(FATAL_CALLS.load(Ordering::SeqCst), 1);
}

static ASYNC_CALLS: AtomicU32 = AtomicU32::new(0);

#[with_retry(max_retries = 3)]
async fn api_call(prompt: &str, suffix: String) -> Result<String, ApiError> {
    let n = ASYNC_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::task::yield_now().await;
    if n < 4 { Err(ApiError::Transient(n)) } else { Ok(format!("{prompt}{suffix}")) }
}

#[tokio::test(start_paused = true)]
async fn async_function_waits_the_default_backoff_in_tokio_time() {
    let start = tokio::time::Instant::now();
    assert_eq!(api_call("hi", "!".into()).await, Ok("hi!".to_string()));
    assert_eq!(ASYNC_CALLS.load(Ordering::SeqCst), 4);
    assert_eq!(start.elapsed(), Duration::from_secs(7)); // 1 + 2 + 4
}

const SEED_POLICY: ExponentialBackoff = ExponentialBackoff::builder()
    .with_max_retries(5)
    .with_base_delay(Duration::from_millis(500))
    .with_multiplier(3.0)
    .with_max_delay(Duration::from_secs(30))
    .build_const();

#[with_retry(backoff = SEED_POLICY)]
async fn always_down() -> Result<(), ApiError> {
    Err(ApiError::Transient(0))
}

#[tokio::test(start_paused = true)]
async fn custom_backoff_policy_async() {
    let start = tokio::time::Instant::now();
    assert_eq!(always_down().await, Err(ApiError::Transient(0)));
    assert_eq!(start.elapsed(), Duration::from_millis(50_000)); // 0.5 + 1.5 + 4.5 + 13.5 + 30
}

struct Client {
    calls: AtomicU32,
    log: Mutex<Vec<u32>>,
}

impl Client {
    #[with_retry(backoff = INSTANT)]
    fn fetch(&self, fail_times: u32) -> Result<u32, ApiError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.log.lock().unwrap().push(n);
        if n <= fail_times { Err(ApiError::Transient(n)) } else { Ok(n) }
    }

    #[with_retry(backoff = INSTANT)]
    async fn fetch_async(&self, fail_times: u32) -> Result<u32, ApiError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= fail_times { Err(ApiError::Transient(n)) } else { Ok(n) }
    }

    #[with_circuit_breaker(failure_threshold = 2, name = "client-method")]
    fn guarded(&self) -> Result<(), ApiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(ApiError::Fatal)
    }
}

#[tokio::test]
async fn methods_sync_and_async() {
    let c = Client { calls: AtomicU32::new(0), log: Mutex::new(Vec::new()) };
    assert_eq!(c.fetch(2), Ok(3));
    assert_eq!(*c.log.lock().unwrap(), [1, 2, 3]);
    assert_eq!(c.fetch_async(4).await, Ok(5)); // the counter goes on from 3: 4 fails, 5 passes
    assert_eq!(c.guarded(), Err(ApiError::Fatal));
    assert_eq!(c.guarded(), Err(ApiError::Fatal));
    assert_eq!(c.guarded(), Err(ApiError::Open("client-method".into())));
    assert_eq!(c.calls.load(Ordering::SeqCst), 7); // 3 + 2 + 2: the third guarded call is rejected
}

static EXTERNAL_CALLS: AtomicU32 = AtomicU32::new(0);

#[with_circuit_breaker(failure_threshold = 3, recovery_timeout = "30s")]
fn call_external_api(endpoint: &str) -> Result<String, ApiError> {
    EXTERNAL_CALLS.fetch_add(1, Ordering::SeqCst);
    if endpoint.is_empty() { Err(ApiError::Fatal) } else { Ok(format!("GET {endpoint}")) }
}

#[test]
fn breaker_is_named_after_the_function_and_registered() {
    assert_eq!(call_external_api("/ok"), Ok("GET /ok".to_string()));
    for _ in 0..3 {
        assert_eq!(call_external_api(""), Err(ApiError::Fatal));
    }
    let name = concat!(module_path!(), "::call_external_api");
    let cb = CircuitBreakerRegistry::global().get(name).expect("registered");
    assert_eq!(cb.state(), CircuitState::Open);
    assert_eq!(call_external_api("/ok"), Err(ApiError::Open(name.into())));
    assert_eq!(EXTERNAL_CALLS.load(Ordering::SeqCst), 4);
    let stats = cb.stats();
    assert_eq!((stats.failed_calls, stats.rejected_calls), (3, 1));
}

static STACKED_CALLS: AtomicU32 = AtomicU32::new(0);

#[with_circuit_breaker(failure_threshold = 2, name = "stacked-breaker")]
#[with_retry(backoff = INSTANT)]
async fn stacked() -> Result<(), ApiError> {
    STACKED_CALLS.fetch_add(1, Ordering::SeqCst);
    Err(ApiError::Transient(0))
}

#[tokio::test]
async fn stacked_attributes_nest_in_written_order() {
    // The breaker is outside the retry: each call is 5 attempts and counts as one failure.
    assert_eq!(stacked().await, Err(ApiError::Transient(0)));
    assert_eq!(STACKED_CALLS.load(Ordering::SeqCst), 5);
    let cb = CircuitBreakerRegistry::global().get("stacked-breaker").unwrap();
    assert_eq!(cb.stats().failed_calls, 1);
    assert_eq!(stacked().await, Err(ApiError::Transient(0)));
    assert_eq!(cb.state(), CircuitState::Open);
    // Open: rejected at once, nothing retried.
    assert_eq!(stacked().await, Err(ApiError::Open("stacked-breaker".into())));
    assert_eq!(STACKED_CALLS.load(Ordering::SeqCst), 10);
}

static INNER_BREAKER_CALLS: AtomicU32 = AtomicU32::new(0);

#[with_retry(backoff = INSTANT)]
#[with_circuit_breaker(failure_threshold = 2, name = "inner-breaker")]
fn retry_outside_breaker() -> Result<(), ApiError> {
    INNER_BREAKER_CALLS.fetch_add(1, Ordering::SeqCst);
    Err(ApiError::Fatal)
}

#[test]
fn reversed_stack_retries_into_an_open_breaker() {
    // Retry outside: two real failures open the breaker, the next three tries are rejected.
    assert_eq!(retry_outside_breaker(), Err(ApiError::Open("inner-breaker".into())));
    assert_eq!(INNER_BREAKER_CALLS.load(Ordering::SeqCst), 2);
}

static EARLY_RETURN_CALLS: AtomicU32 = AtomicU32::new(0);

fn parse(s: &str) -> Result<u32, ApiError> {
    s.parse().map_err(|_| ApiError::Fatal)
}

#[with_retry(backoff = INSTANT)]
fn question_mark_and_return(input: &str) -> Result<u32, ApiError> {
    let n = EARLY_RETURN_CALLS.fetch_add(1, Ordering::SeqCst);
    if n == 0 {
        return Err(ApiError::Transient(n));
    }
    let v = parse(input)?;
    Ok(v * 2)
}

#[test]
fn body_keeps_return_and_question_mark() {
    assert_eq!(question_mark_and_return("21"), Ok(42));
    assert_eq!(EARLY_RETURN_CALLS.load(Ordering::SeqCst), 2);
}

static ELAPSED_CALLS: AtomicU32 = AtomicU32::new(0);

const EVERY_TEN_SECONDS: FixedDelay =
    FixedDelay::new().with_delay(Duration::from_secs(10)).without_max_retries();

#[with_retry(backoff = EVERY_TEN_SECONDS, max_elapsed = "25s")]
async fn bounded_in_time() -> Result<(), ApiError> {
    ELAPSED_CALLS.fetch_add(1, Ordering::SeqCst);
    Err(ApiError::Transient(0))
}

#[tokio::test(start_paused = true)]
async fn max_elapsed_argument_bounds_an_endless_schedule() {
    let start = tokio::time::Instant::now();
    assert_eq!(bounded_in_time().await, Err(ApiError::Transient(0)));
    // Attempts at 0, 10 and 20 s; a wait to 30 s would pass 25 s.
    assert_eq!(ELAPSED_CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(start.elapsed(), Duration::from_secs(20));
}

mod openai {
    use elf_resilience::with_circuit_breaker;

    #[with_circuit_breaker(failure_threshold = 2)]
    pub fn chat(fail: bool) -> Result<&'static str, super::ApiError> {
        if fail { Err(super::ApiError::Fatal) } else { Ok("openai") }
    }
}

mod anthropic {
    use elf_resilience::with_circuit_breaker;

    #[with_circuit_breaker(failure_threshold = 2)]
    pub fn chat(fail: bool) -> Result<&'static str, super::ApiError> {
        if fail { Err(super::ApiError::Fatal) } else { Ok("anthropic") }
    }
}

#[test]
fn same_named_functions_of_two_modules_have_two_breakers() {
    for _ in 0..2 {
        assert_eq!(openai::chat(true), Err(ApiError::Fatal));
    }
    assert!(matches!(openai::chat(false), Err(ApiError::Open(_))), "openai's breaker opened");
    assert_eq!(anthropic::chat(false), Ok("anthropic"), "anthropic's breaker is its own");
    let names: Vec<String> = CircuitBreakerRegistry::global().stats().into_iter().map(|s| s.name).collect();
    for module in ["openai", "anthropic"] {
        let name = format!("{}::{module}::chat", module_path!());
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

/// The clock of `on_a_manual_clock`'s breaker, advanced by hand.
static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static CLOCKED_FAILS: AtomicU32 = AtomicU32::new(2);

#[with_circuit_breaker(failure_threshold = 2, recovery_timeout = "30s", name = "clocked", clock = CLOCK.shared())]
fn on_a_manual_clock() -> Result<CircuitState, ApiError> {
    let state = CircuitBreakerRegistry::global().get("clocked").expect("registered").state();
    if CLOCKED_FAILS.load(Ordering::SeqCst) > 0 {
        CLOCKED_FAILS.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::Fatal);
    }
    Ok(state) // the state the breaker was in while this call ran
}

#[test]
fn clock_argument_drives_the_breaker_open_then_half_open_without_waiting() {
    assert_eq!(on_a_manual_clock(), Err(ApiError::Fatal));
    assert_eq!(on_a_manual_clock(), Err(ApiError::Fatal));
    assert_eq!(on_a_manual_clock(), Err(ApiError::Open("clocked".into())));
    CLOCK.advance(Duration::from_secs(29));
    assert_eq!(on_a_manual_clock(), Err(ApiError::Open("clocked".into())), "29 s: still open");
    CLOCK.advance(Duration::from_secs(1));
    assert_eq!(on_a_manual_clock(), Ok(CircuitState::HalfOpen), "30 s: the call is a probe");
    let cb = CircuitBreakerRegistry::global().get("clocked").unwrap();
    assert_eq!(cb.state(), CircuitState::Closed, "the probe succeeded");
}

#[with_circuit_breaker(failure_threshold = 2, name = "shared-name")]
fn first_of_two() -> Result<(), ApiError> {
    Ok(())
}

#[with_circuit_breaker(failure_threshold = 7, name = "shared-name")]
fn second_of_two() -> Result<(), ApiError> {
    Ok(())
}

#[with_circuit_breaker(failure_threshold = 2, name = "shared-name")]
fn third_like_the_first() -> Result<(), ApiError> {
    Ok(())
}

#[test]
fn one_name_with_two_settings_is_a_warning_and_the_first_wins() {
    let logs = logged(|| {
        first_of_two().unwrap();
        third_like_the_first().unwrap();
    });
    assert!(!logs.contains("WARN"), "same settings are quiet: {logs}");
    let logs = logged(|| second_of_two().unwrap());
    assert!(logs.contains("exists with other settings"), "{logs}");
    assert!(
        logs.contains("kept=failure_threshold=2") && logs.contains("ignored=failure_threshold=7"),
        "{logs}"
    );
}

/// What `tracing` events `f` logged on this thread, as text.
fn logged(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Logs(std::sync::Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || sink.clone()).with_ansi(false).finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned()
}
