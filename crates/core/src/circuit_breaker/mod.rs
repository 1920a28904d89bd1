//! Circuit breaker: stop calling a service that keeps failing, probe it again later.
//!
//! A breaker is **closed** while calls succeed. After `failure_threshold` consecutive
//! failures (or, with a [`SlidingWindow`], a failure or slow-call rate over its threshold) it
//! **opens** and rejects calls with [`CircuitOpen`] for `recovery_timeout`. Then it goes
//! **half-open**: exactly `half_open_permits` probe calls pass; `half_open_successes` of them
//! succeeding closes it, any failure reopens it; with
//! [`max_wait_in_half_open`](CircuitBreakerBuilder::max_wait_in_half_open), so does a half-open
//! stay that lasts longer than that (by default it waits for its probes however long they
//! take). [`force_open`](CircuitBreaker::force_open)
//! and [`disable`](CircuitBreaker::disable) override all that until
//! [`reset`](CircuitBreaker::reset).
//!
//! ```
//! use elf_resilience_core::{CircuitBreaker, CircuitBreakerError, ManualClock};
//! use std::time::Duration;
//!
//! #[derive(Debug)]
//! struct ApiError;
//!
//! let clock = ManualClock::new();
//! let cb = CircuitBreaker::builder()
//!     .name("OpenAI-API")
//!     .failure_threshold(5)                       // open after 5 failures
//!     .recovery_timeout(Duration::from_secs(60)) // try recovery after 60 seconds
//!     .record_error_if(|_: &ApiError| true)       // the seed's expected_exception
//!     .clock(clock.shared())
//!     .build()?;
//!
//! for _ in 0..5 {
//!     let _ = cb.call(|| Err::<String, _>(ApiError));
//! }
//! let result = cb.call(|| Ok::<_, ApiError>("answer".to_string()));
//! let answer = match result {
//!     Ok(answer) => answer,
//!     Err(e) if e.is_open() => "fallback service".to_string(), // e.g. "Circuit breaker 'OpenAI-API' is OPEN; retry in 60.0s"
//!     Err(e) => panic!("{e:?}"),
//! };
//! assert_eq!(answer, "fallback service");
//!
//! let stats = cb.stats();
//! println!("State: {}", stats.state);
//! println!("Success rate: {}%", stats.success_rate);
//! println!("Rejected calls: {}", stats.rejected_calls);
//! assert_eq!(stats.rejected_calls, 1);
//!
//! cb.reset(); // manually close
//! assert!(cb.call(|| Ok::<_, ApiError>(1)).is_ok());
//! cb.trip(); // manually open
//! assert!(matches!(cb.call(|| Ok::<_, ApiError>(1)), Err(CircuitBreakerError::Open(_))));
//! # Ok::<(), elf_resilience_core::InvalidBreakerConfig>(())
//! ```
//!
//! # Metrics
//!
//! | name | kind | labels |
//! |------|------|--------|
//! | `elf_circuit_breaker_calls_total` | counter | `name`, `outcome` (success, failure, rejected, ignored) |
//! | `elf_circuit_breaker_slow_calls_total` | counter | `name` |
//! | `elf_circuit_breaker_transitions_total` | counter | `name`, `to` (closed, open, half_open, forced_open, disabled) |
//! | `elf_circuit_breaker_state` | gauge | `name` (0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled) |
//! | `elf_circuit_breaker_failure_rate` | gauge | `name`: failures over successes and failures, 0–1 |
//! | `elf_circuit_breaker_slow_call_rate` | gauge | `name`: slow calls over successes and failures, 0–1 |
//! | `elf_circuit_breaker_call_duration_seconds` | histogram | `name`, with [`record_call_durations`](CircuitBreakerBuilder::record_call_durations) |
//!
//! Handles are registered when a breaker is built (install the recorder first). The state
//! gauge and transition counter move on transitions; the call counters and rates are published
//! from the breaker's own counters on transitions, on [`stats`](CircuitBreaker::stats) and on
//! [`publish_metrics`](CircuitBreaker::publish_metrics), so a call never touches the recorder
//! (unless it records its duration).
//!
//! # Cost
//!
//! A call through a closed breaker is one atomic load of the state word and one increment of
//! a counter stripe owned by the calling thread (a plain load and store: the first threads
//! that count each own a stripe; later ones share the rest and use `fetch_add`); no lock, no
//! allocation, and no clock read unless slow calls, call durations or a time window are
//! measured.
//!
//! A sliding window adds nothing to a successful call: its calls are the breaker's call
//! counters. A time window reads the clock once when a call ends (and claims a new bucket on
//! the first call of each of its 64 buckets); a slow-call check reads it when the call starts
//! as well (the end reading is shared). Only failures and slow calls write to the window's
//! buckets. See [`SlidingWindow`] for how a count window longer than 64 calls is bucketed.
//!
//! A rejection by an open breaker compares its deadline, cached in the state word, with one
//! reading of its own clock (the default [`SystemClock`](crate::SystemClock) reads the CPU's
//! time-stamp counter, a few nanoseconds), counts the rejection, and returns a
//! [`CircuitOpen`] holding a clone of the breaker's `Arc<str>` name (no allocation). Its
//! retry-after is exact, and nothing runs in the background: a breaker in a
//! forked child process half-opens on time like its parent's.

mod builder;
mod counters;
mod engine;
mod error;
mod eviction;
mod finish;
mod flight;
mod listener;
mod metrics;
mod permit;
mod registry;
mod ring;
mod settings;
mod state;
mod stats;
use crate::sync;
mod window;

pub use builder::CircuitBreakerBuilder;
pub use error::{CircuitBreakerError, CircuitOpen, InvalidBreakerConfig};
pub use listener::StateListener;
pub use permit::{CircuitPermit, OwnedCircuitPermit};
pub use registry::{CircuitBreakerRegistry, CircuitBreakerRegistryBuilder, DEFAULT_MAX_BREAKERS};
pub use state::CircuitState;
pub use stats::{CircuitStats, StateDurations};
pub use window::{MAX_COUNT_WINDOW, SlidingWindow, TIME_WINDOW_BUCKETS};

#[cfg(feature = "tower")]
mod layer;
#[cfg(feature = "tower")]
pub use layer::{CircuitBreakerLayer, CircuitBreakerService};

use builder::BreakerConfig;
use engine::Inner;
use state::{Event, State};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use sync::Ordering;

/// A circuit breaker. Cheap to clone: clones share one breaker.
#[derive(Clone)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker").field("name", &self.name()).field("state", &self.state()).finish()
    }
}

impl Default for CircuitBreaker {
    /// A breaker named `"default"` with the seed's defaults.
    fn default() -> Self {
        Self::new("default")
    }
}

impl CircuitBreaker {
    /// A builder; see [`CircuitBreakerBuilder`] for the settings and defaults.
    pub fn builder() -> CircuitBreakerBuilder {
        CircuitBreakerBuilder::new()
    }

    /// A breaker with the seed's defaults (5 consecutive failures, 60 s recovery).
    pub fn new(name: impl Into<String>) -> Self {
        let cfg = CircuitBreakerBuilder::new().into_config().map(|c| c.renamed(&name.into()));
        Self::from_config(cfg.unwrap_or_else(|e| unreachable!("default breaker config is valid: {e}")))
    }

    pub(crate) fn from_config(cfg: BreakerConfig) -> Self {
        Self { inner: Arc::new(Inner::new(cfg)) }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.inner.cfg.name
    }

    /// The current state. An open breaker whose recovery timeout has passed still reads as
    /// open until the next call makes it half-open; likewise a half-open breaker past its
    /// [`max_wait_in_half_open`](CircuitBreakerBuilder::max_wait_in_half_open) reads as
    /// half-open until the next call or probe report reopens it.
    pub fn state(&self) -> CircuitState {
        self.inner.load().kind()
    }

    /// Asks to make one call; see [`CircuitPermit`].
    // Always inlined: returned from a call, the permit or error is read back just after being
    // written, which stalls.
    #[inline(always)]
    pub fn try_acquire(&self) -> Result<CircuitPermit<'_>, CircuitOpen> {
        match self.inner.acquire() {
            Ok(word) => Ok(CircuitPermit::new(&self.inner, word)),
            Err(r) => Err(self.inner.open_error(r)),
        }
    }

    /// Like [`try_acquire`](Self::try_acquire), with a permit that owns a handle to the
    /// breaker (for futures that outlive the borrow).
    #[inline]
    pub fn try_acquire_owned(&self) -> Result<OwnedCircuitPermit, CircuitOpen> {
        match self.inner.acquire() {
            Ok(word) => Ok(OwnedCircuitPermit::new(&self.inner, word)),
            Err(r) => Err(self.inner.open_error(r)),
        }
    }

    /// Runs `f` through the breaker. A panic in `f` counts as a failure and propagates.
    ///
    /// The seed's chaos test:
    ///
    /// ```
    /// use elf_resilience_core::CircuitBreaker;
    ///
    /// let cb = CircuitBreaker::builder().name("test-breaker").failure_threshold(1).build().unwrap();
    /// let _ = cb.call(|| Err::<(), _>("division by zero")); // fail once
    /// let err = cb.call(|| Ok::<_, &str>("This should fail")).unwrap_err();
    /// assert!(err.is_open());
    /// assert!(err.to_string().contains("Circuit breaker 'test-breaker' is OPEN"));
    /// ```
    // Always inlined: left out of line, the closed and open paths share one frame and pay for
    // saving registers only the slow paths use (about a nanosecond of a 3 ns rejection).
    #[inline(always)]
    pub fn call<T, E: 'static, F>(&self, f: F) -> Result<T, CircuitBreakerError<E>>
    where
        F: FnOnce() -> Result<T, E>,
    {
        let inner = &*self.inner;
        let word = inner.word.load(Ordering::Acquire);
        // The common case, decided once: closed with no failure counted, no clock to read.
        let clean = State::is_clean_closed(word);
        if clean && !inner.cfg.timed {
            return inner.run_plain(word, f).map_err(CircuitBreakerError::Inner);
        }
        let admitted = match if clean { Ok(word) } else { inner.acquire_from(word) } {
            Ok(admitted) => admitted,
            Err(r) => return Err(CircuitBreakerError::Open(inner.open_error(r))),
        };
        inner.run(admitted, f).map_err(CircuitBreakerError::Inner)
    }

    /// Runs the future made by `f` through the breaker. A panic, or dropping the returned
    /// future while the call is in flight, counts as a failure.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use elf_resilience_core::CircuitBreaker;
    ///
    /// let cb = CircuitBreaker::new("deploy-team-a");
    /// let out = cb.call_async(|| async { Ok::<_, std::io::Error>("deployed") }).await;
    /// assert_eq!(out.unwrap(), "deployed");
    /// # });
    /// ```
    pub async fn call_async<T, E: 'static, F, Fut>(&self, f: F) -> Result<T, CircuitBreakerError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire()?;
        let result = f().await;
        permit.record(&result);
        result.map_err(CircuitBreakerError::Inner)
    }

    /// Opens the breaker now, for the recovery timeout.
    pub fn trip(&self) {
        self.inner.apply(Event::Trip, None);
    }

    /// Opens the breaker for `duration` (e.g. a provider's `Retry-After`). An open breaker's
    /// deadline is only ever extended, never shortened.
    pub fn open_for(&self, duration: Duration) {
        self.inner.apply(Event::OpenFor(crate::clock::duration_to_nanos(duration)), None);
    }

    /// Closes the breaker and forgets the failure count and window.
    pub fn reset(&self) {
        self.inner.apply(Event::Reset, None);
    }

    /// Opens the breaker until [`reset`](Self::reset); rejections carry no retry time.
    pub fn force_open(&self) {
        self.inner.apply(Event::ForceOpen, None);
    }

    /// Lets every call through without counting toward opening, until [`reset`](Self::reset).
    pub fn disable(&self) {
        self.inner.apply(Event::Disable, None);
    }

    /// A snapshot of the statistics (also published to the metrics recorder).
    pub fn stats(&self) -> CircuitStats {
        self.inner.publish_metrics();
        stats_of(&self.inner)
    }

    /// Publishes the call counters to the `metrics` recorder (see the metrics table in the
    /// module docs). Calls are counted without touching the recorder; this makes the
    /// `elf_circuit_breaker_calls_total` counters current.
    pub fn publish_metrics(&self) {
        self.inner.publish_metrics();
    }
}

fn stats_of(inner: &Inner) -> CircuitStats {
    use counters::Count;
    let book = sync::lock(&inner.book);
    let state = inner.load();
    let now = inner.cfg.clock.now_nanos().max(book.entered_at);
    let mut spent = book.spent;
    spent[state.kind().as_code() as usize] += now - book.entered_at;
    let c = |what| inner.counters.get(what);
    let (ok, failed, rejected, ignored) =
        (c(Count::Success), c(Count::Failure), c(Count::Rejected), c(Count::Ignored));
    CircuitStats {
        name: inner.cfg.name.to_string(),
        state: state.kind(),
        total_calls: ok + failed + rejected + ignored,
        successful_calls: ok,
        failed_calls: failed,
        rejected_calls: rejected,
        ignored_calls: ignored,
        slow_calls: c(Count::Slow),
        success_rate: stats::success_rate(ok, failed),
        consecutive_failures: if let State::Closed { failures, .. } = state { failures } else { 0 },
        time_in_state: Duration::from_nanos(now - book.entered_at),
        time_in_states: StateDurations::from_nanos(spent),
        transitions: book.transitions,
        last_transition_at: Duration::from_nanos(book.entered_at),
        last_transition_wall: book.entered_wall,
    }
}
