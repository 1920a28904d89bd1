//! Attribute macros for elf-resilience: the seed's decorators as Rust attributes.
//!
//! Use them through the `elf-resilience` crate (the generated code names `::elf_resilience`
//! paths):
//!
//! ```ignore
//! use elf_resilience::{with_circuit_breaker, with_retry};
//!
//! #[with_circuit_breaker(failure_threshold = 5)] // outermost: stop cascading failures
//! #[with_retry(max_retries = 3)]                 // then: retry transient errors
//! async fn resilient_llm_call(prompt: &str) -> Result<String, LlmError> {
//!     llm.invoke(prompt).await
//! }
//! ```
//!
//! Attributes nest in the order they are written: the first is the outermost layer. Each
//! keeps the function's signature; the function must return `Result<T, E>`.

mod args;
mod duration;
mod fallback_queue;
mod function;
mod stack;
mod with_circuit_breaker;
mod with_fallback;
mod with_retry;

use proc_macro::TokenStream;

fn finish(out: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    out.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Retries the function's body: the seed's `@with_retry`.
///
/// | argument            | meaning                                                         |
/// |---------------------|-----------------------------------------------------------------|
/// | `max_retries = N`   | exponential backoff 1 s, 2 s, 4 s… (×2, capped at 60 s), N retries |
/// | `backoff = EXPR`    | any built backoff schedule, e.g. a `const` made with `ExponentialBackoff::builder()...build_const()` (not with `max_retries`); a builder is refused |
/// | `retry_if = EXPR`   | a predicate `Fn(&E) -> bool`; other errors are returned at once |
/// | `max_elapsed = "30s"` | stop when the next wait would pass this total time            |
///
/// With no arguments: 3 retries. The function keeps its signature: after the last attempt
/// it returns the last error. The body runs once per attempt, so it must not move its
/// arguments out (clone them instead); an async body may not hold `&mut` borrows of them.
#[proc_macro_attribute]
pub fn with_retry(attr: TokenStream, item: TokenStream) -> TokenStream {
    finish(with_retry::expand(attr.into(), item.into()))
}

/// Runs the function through a circuit breaker: the seed's `@with_circuit_breaker`.
///
/// | argument                  | meaning                                        |
/// |---------------------------|------------------------------------------------|
/// | `failure_threshold = N`   | consecutive failures that open it (default 5) |
/// | `recovery_timeout = "30s"`| how long it stays open (or seconds as an integer; default 60 s) |
/// | `half_open_permits = N`   | probe calls admitted when half-open            |
/// | `name = "..."`            | the breaker's name (default: the function's module path and name, e.g. `my_app::openai::chat`) |
/// | `clock = EXPR`            | the breaker's clock, a `SharedClock` (e.g. `CLOCK.shared()` of a `ManualClock`, for tests) |
///
/// The breaker is created on first call in the global `CircuitBreakerRegistry` (`clock` is
/// evaluated then, once), or taken from it if one by that name exists: the first registration
/// under a name wins, and if its settings differ from this attribute's, a `tracing` warning
/// describes both. A rejected call returns the function's error type converted from
/// `CircuitOpen`, so that type must implement `From<CircuitOpen>`.
///
/// ```ignore
/// static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
///
/// #[with_circuit_breaker(failure_threshold = 2, recovery_timeout = "30s", clock = CLOCK.shared())]
/// fn call_api() -> Result<String, ApiError> { .. }
///
/// // Two failures open it; CLOCK.advance(Duration::from_secs(30)) lets the next call probe.
/// ```
#[proc_macro_attribute]
pub fn with_circuit_breaker(attr: TokenStream, item: TokenStream) -> TokenStream {
    finish(with_circuit_breaker::expand(attr.into(), item.into()))
}

/// Runs the function through the global `FallbackProtocol`: the seed's `@with_fallback`.
///
/// | argument                      | meaning                                                  |
/// |-------------------------------|----------------------------------------------------------|
/// | `ApiQuota`, `Database`, ...   | the resource type (first, required)                      |
/// | `strategies = [Retry, ...]`   | a custom strategy order (default: the resource's)        |
/// | `switch = model`              | rewrites the `model: &str` / `&'static str` / `String` argument to the provider of each attempt |
/// | `degrade(max_tokens, batch_size, temperature)` | scales those numeric arguments by the attempt's degrade level |
/// | `cache_key = EXPR`            | caches answers under `EXPR` (a `String`) for `UseCache`; the value type must be serde |
/// | `queue = "handler"`           | lets `QueueRequest` queue the call for the `QueueWorker` handler of that name; every argument must be `Serialize` |
///
/// The protocol is [`FallbackProtocol::global()`], configured once with
/// `FallbackProtocol::set_global(...)`. The function keeps its signature and must return
/// `Result<T, E>` with `E: From<FallbackRejection>` (a shed, queued or refused call). The body
/// runs once per attempt, so it must not move its arguments out.
///
/// # Queueing
///
/// With `queue = "handler"`, each call carries its arguments as a JSON object,
/// `{"name": value, ..}` (the receiver `self` is not part of it), serialized before the first
/// attempt. When `QueueRequest` acts (the protocol needs a queue), the call returns at once
/// with `Err(E::from(rejection))` where `rejection.ticket` is the queued ticket; the body is
/// not run. A `QueueWorker` replays the request once the resource is usable again, through
/// the handler registered under the same name, which deserializes the arguments into a
/// struct with the same field names (and may call the function again):
///
/// ```ignore
/// #[with_fallback(Memory, queue = "batch-jobs")]
/// fn process(job: &str, rows: u32) -> Result<u32, BoxError> { .. }
///
/// #[derive(Deserialize)]
/// struct ProcessArgs { job: String, rows: u32 }
///
/// let worker = QueueWorker::new(queue, gate).register_typed("batch-jobs", ResourceType::Memory,
///     |a: ProcessArgs, _ctx| async move { process(&a.job, a.rows).map_err(|e| e.to_string()) });
/// ```
///
/// An argument that is not `Serialize` is a compile error at its type; so is `queue` with a
/// `strategies` list that leaves out `QueueRequest`. The default orders of `Database`,
/// `McpServer` and `Network` have no `QueueRequest`, and those of `Cpu`, `Docker` and
/// `K8sPod` shed a pressured call before it reaches `QueueRequest`: with these resources,
/// list the strategies (e.g. `strategies = [DegradeService, QueueRequest]`).
///
/// [`FallbackProtocol::global()`]: https://docs.rs/elf-resilience/latest/elf_resilience/struct.FallbackProtocol.html#method.global
#[proc_macro_attribute]
pub fn with_fallback(attr: TokenStream, item: TokenStream) -> TokenStream {
    finish(with_fallback::expand(attr.into(), item.into()))
}
