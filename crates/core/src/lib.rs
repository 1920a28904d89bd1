//! # elf-resilience-core
//!
//! The resilience policies of elf-resilience, with no I/O but timers: backoff schedules,
//! retry, circuit breaker, rate limiter, bulkhead, timeout, response cache and the fallback
//! protocol that chains them.
//!
//! Every policy takes a [`Clock`], so tests run on a [`ManualClock`] or tokio's paused time.
//!
//! | feature | default | what it adds |
//! |---------|---------|--------------|
//! | `tokio` | yes     | async `call_async` adapters, [`TokioClock`], async sleeping |
//! | `tower` | no      | a tower `Layer` for each policy |
//! | `testing` | no    | the conformance suites a storage backend's tests run: `cache_conformance`, `queue_conformance`, `ledger_conformance` |

mod backoff;
mod bulkhead;
mod cache;
mod circuit_breaker;
mod clock;
mod fallback;
mod ledger;
#[cfg(feature = "tokio")]
mod pipeline;
mod rate_limit;
mod resource;
mod retry;
mod stripes;
mod sync;
mod timeout;

pub use backoff::{
    AdaptiveBackoff, AdaptiveBackoffBuilder, ExponentialBackoff, ExponentialBackoffBuilder, FibonacciBackoff,
    FibonacciBackoffBuilder, FixedDelay, InvalidBackoff, Jitter, LinearBackoff, LinearBackoffBuilder,
};
pub use bulkhead::{Bulkhead, BulkheadBuilder, BulkheadError, BulkheadPermit};
#[cfg(feature = "tower")]
pub use bulkhead::{BulkheadLayer, BulkheadService};
#[cfg(feature = "testing")]
pub use cache::cache_conformance;
pub use cache::{CacheEntry, CacheError, CachedValue, InMemoryCache, ResponseCache};
pub use circuit_breaker::{
    CircuitBreaker, CircuitBreakerBuilder, CircuitBreakerError, CircuitBreakerRegistry,
    CircuitBreakerRegistryBuilder, CircuitOpen, CircuitPermit, CircuitState, CircuitStats,
    DEFAULT_MAX_BREAKERS, InvalidBreakerConfig, MAX_COUNT_WINDOW, OwnedCircuitPermit, SlidingWindow,
    StateDurations, StateListener, TIME_WINDOW_BUCKETS,
};
#[cfg(feature = "tower")]
pub use circuit_breaker::{CircuitBreakerLayer, CircuitBreakerService};
#[cfg(feature = "tokio")]
pub use clock::TokioClock;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
#[cfg(feature = "testing")]
pub use fallback::queue_conformance;
pub use fallback::{
    Answer, Attempt, DegradeLevel, EnqueueRequest, FallbackError, FallbackEvent, FallbackProtocol,
    FallbackProtocolBuilder, FallbackRejection, FallbackRequest, FallbackStage, FallbackStrategy,
    GateReading, InMemoryQueue, InvalidFallbackConfig, Outcome, QueueArgs, QueueCounts, QueueError,
    QueuedRequest, RequestQueue, ResourceGate, Served, StaticGate, Ticket, TicketStatus, Trace, TraceEvent,
    TraceKind, UnknownFallbackStrategy, default_degrade_levels, fallback_into_result,
};
#[cfg(feature = "tower")]
pub use fallback::{FallbackLayer, FallbackService, FallbackServiceFuture, WithAttempt};
#[cfg(feature = "tokio")]
pub use fallback::{QueueWorker, TicketResult, WorkerPass};
#[cfg(feature = "testing")]
pub use ledger::ledger_conformance;
pub use ledger::{LedgerError, LedgerTotal, Rollup, TimeRange, Usage, UsageBucket, UsageFilter, UsageLedger};
#[cfg(feature = "tokio")]
pub use pipeline::{Pipeline, PipelineBuilder, PipelineError, PipelineRetry};
pub use rate_limit::{
    Quota, RateLimitConfigError, RateLimitError, RateLimited, RateLimiter, RateLimiterBuilder,
};
#[cfg(feature = "tower")]
pub use rate_limit::{RateLimitLayer, RateLimitService, RateLimitServiceError};
pub use resource::{Context, Priority, ResourceStatus, ResourceType, UnknownResourceType};
pub use retry::{
    AcceptAnyResult, AsyncSleeper, DEFAULT_MAX_RETRY_HINT, DefaultSleeper, InvalidRetryBudget, NoRetryHint,
    NoRetryNotify, ResultPredicate, Retry, RetryAfterHint, RetryBudget, RetryBudgetBuilder, RetryError,
    RetryErrorKind, RetryHintSource, RetryNotify, RetryOnAnyError, RetryPredicate, Sleeper,
    UseRetryAfterHint,
};
#[cfg(feature = "tower")]
pub use retry::{RetryLayer, RetryService, RetryServiceFuture};
#[cfg(feature = "tokio")]
pub use timeout::TimeoutFuture;
pub use timeout::{Timeout, TimeoutError};
#[cfg(feature = "tower")]
pub use timeout::{TimeoutLayer, TimeoutService};
