//! Building and validating a breaker's configuration.

use super::listener::{Listeners, StateListener};
use super::state::{Limits, MAX_COUNT};
use super::window::{MAX_COUNT_WINDOW, SlidingWindow};
use super::{CircuitBreaker, CircuitState, InvalidBreakerConfig};
use crate::clock::{SharedClock, SystemClock, duration_to_nanos};
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Decides whether an error (seen as `&dyn Any`) counts as a failure.
pub(crate) type ErrorFilter = Arc<dyn Fn(&dyn Any) -> bool + Send + Sync>;

/// Builds a [`CircuitBreaker`]; invalid settings are rejected by [`build`](Self::build).
///
/// # Default
///
/// | setting | default |
/// |---------|---------|
/// | name | `"default"` |
/// | failure_threshold | 5 consecutive failures |
/// | recovery_timeout | 60 s |
/// | half_open_permits | 1 probe call |
/// | half_open_successes | = half_open_permits |
/// | max_wait_in_half_open | none: half-open waits for its probes however long they take |
/// | sliding_window | none (only consecutive failures count) |
/// | failure_rate_threshold | 50 % once a window is set |
/// | minimum_calls | 10 |
/// | slow calls | not measured |
/// | record_call_durations | off |
/// | record_error_if | every error counts |
/// | clock | [`SystemClock`] |
///
/// ```
/// use elf_resilience_core::{CircuitBreaker, SlidingWindow};
/// use std::time::Duration;
///
/// let cb = CircuitBreaker::builder()
///     .name("OpenAI-API")
///     .failure_threshold(5)
///     .recovery_timeout(Duration::from_secs(60))
///     .sliding_window(SlidingWindow::Count(100))
///     .failure_rate_threshold(50.0)
///     .minimum_calls(20)
///     .build()
///     .unwrap();
/// assert_eq!(cb.name(), "OpenAI-API");
/// ```
#[derive(Clone)]
#[must_use]
pub struct CircuitBreakerBuilder {
    name: String,
    failure_threshold: u32,
    recovery_timeout: Duration,
    half_open_permits: u32,
    half_open_successes: Option<u32>,
    max_wait_in_half_open: Option<Duration>,
    window: Option<SlidingWindow>,
    minimum_calls: u32,
    failure_rate: Option<f64>,
    slow_call_duration: Option<Duration>,
    slow_call_rate: Option<f64>,
    record_durations: bool,
    record_error: Option<ErrorFilter>,
    clock: Option<SharedClock>,
    listeners: Listeners,
}

impl fmt::Debug for CircuitBreakerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("name", &self.name)
            .field("failure_threshold", &self.failure_threshold)
            .field("recovery_timeout", &self.recovery_timeout)
            .field("max_wait_in_half_open", &self.max_wait_in_half_open)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Default for CircuitBreakerBuilder {
    fn default() -> Self {
        Self {
            name: "default".to_owned(),
            failure_threshold: 5,
            recovery_timeout: Duration::from_secs(60),
            half_open_permits: 1,
            half_open_successes: None,
            max_wait_in_half_open: None,
            window: None,
            minimum_calls: 10,
            failure_rate: None,
            slow_call_duration: None,
            slow_call_rate: None,
            record_durations: false,
            record_error: None,
            clock: None,
            listeners: Listeners::default(),
        }
    }
}

impl CircuitBreakerBuilder {
    /// A builder with the defaults above.
    pub fn new() -> Self {
        Self::default()
    }

    /// The name used in errors, stats, logs, metrics and registries.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Consecutive failures that open a closed breaker (1 to 65535).
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.failure_threshold = n;
        self
    }

    /// How long an open breaker rejects before it admits a probe.
    pub fn recovery_timeout(mut self, timeout: Duration) -> Self {
        self.recovery_timeout = timeout;
        self
    }

    /// Probe calls admitted while half-open; further calls are rejected (1 to 65535).
    pub fn half_open_permits(mut self, n: u32) -> Self {
        self.half_open_permits = n;
        self
    }

    /// Successful probes needed to close (at most `half_open_permits`). Any failed probe
    /// reopens the breaker.
    pub fn half_open_successes(mut self, n: u32) -> Self {
        self.half_open_successes = Some(n);
        self
    }

    /// Longest time the breaker stays half-open waiting for its probes to decide (resilience4j's
    /// `maxWaitDurationInHalfOpenState`); after it, the next call or probe report reopens the
    /// breaker for the recovery timeout, and reports of the probes still in flight no longer
    /// count. Without it (the default), a probe that never returns keeps the breaker half-open.
    ///
    /// ```
    /// use elf_resilience_core::{CircuitBreaker, CircuitState, ManualClock};
    /// use std::time::Duration;
    ///
    /// let clock = ManualClock::new();
    /// let cb = CircuitBreaker::builder()
    ///     .recovery_timeout(Duration::from_secs(10))
    ///     .max_wait_in_half_open(Duration::from_secs(30))
    ///     .clock(clock.shared())
    ///     .build()
    ///     .unwrap();
    /// cb.trip();
    /// clock.advance(Duration::from_secs(10));
    /// let probe = cb.try_acquire().unwrap(); // a probe that hangs
    /// clock.advance(Duration::from_secs(30));
    /// let open = cb.try_acquire().unwrap_err();
    /// assert_eq!((open.state, open.retry_after), (CircuitState::Open, Some(Duration::from_secs(10))));
    /// probe.success(); // too late to count
    /// assert_eq!(cb.state(), CircuitState::Open);
    /// ```
    pub fn max_wait_in_half_open(mut self, max_wait: Duration) -> Self {
        self.max_wait_in_half_open = Some(max_wait);
        self
    }

    /// Also open when the failure rate (or slow-call rate) over this window crosses its
    /// threshold. The window is cleared whenever the breaker closes.
    pub fn sliding_window(mut self, window: SlidingWindow) -> Self {
        self.window = Some(window);
        self
    }

    /// Failure rate, in percent of the window's calls, that opens the breaker.
    pub fn failure_rate_threshold(mut self, percent: f64) -> Self {
        self.failure_rate = Some(percent);
        self
    }

    /// Calls the window must hold before its rates are judged.
    pub fn minimum_calls(mut self, n: u32) -> Self {
        self.minimum_calls = n;
        self
    }

    /// Calls taking at least this long count as slow (successful or not).
    pub fn slow_call_duration(mut self, d: Duration) -> Self {
        self.slow_call_duration = Some(d);
        self
    }

    /// Slow-call rate, in percent of the window's calls, that opens the breaker.
    pub fn slow_call_rate_threshold(mut self, percent: f64) -> Self {
        self.slow_call_rate = Some(percent);
        self
    }

    /// Times every admitted call and records its duration in the
    /// `elf_circuit_breaker_call_duration_seconds{name}` histogram. Off by default: a breaker
    /// reads no clock per call unless it measures slow calls or a time window.
    pub fn record_call_durations(mut self, on: bool) -> Self {
        self.record_durations = on;
        self
    }

    /// Counts only errors of type `E` for which `pred` is true (the seed's
    /// `expected_exception`); other `E` errors pass through uncounted. Errors of other types
    /// still count.
    ///
    /// ```
    /// use elf_resilience_core::CircuitBreaker;
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum ApiError { Server, BadRequest }
    ///
    /// let cb = CircuitBreaker::builder()
    ///     .failure_threshold(1)
    ///     .record_error_if(|e: &ApiError| *e == ApiError::Server)
    ///     .build()
    ///     .unwrap();
    /// let _ = cb.call(|| Err::<(), _>(ApiError::BadRequest));
    /// assert!(!cb.state().is_open());
    /// let _ = cb.call(|| Err::<(), _>(ApiError::Server));
    /// assert!(cb.state().is_open());
    /// ```
    pub fn record_error_if<E: 'static>(mut self, pred: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.record_error = Some(Arc::new(move |e: &dyn Any| e.downcast_ref::<E>().is_none_or(&pred)));
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Calls `f(from, to)` on every state transition.
    pub fn on_state_change(mut self, f: impl Fn(CircuitState, CircuitState) + Send + Sync + 'static) -> Self {
        self.listeners.push(Arc::new(f) as StateListener);
        self
    }

    /// Validates the settings and builds the breaker.
    pub fn build(self) -> Result<CircuitBreaker, InvalidBreakerConfig> {
        self.into_config().map(CircuitBreaker::from_config)
    }

    /// Validates the settings.
    pub(crate) fn into_config(self) -> Result<BreakerConfig, InvalidBreakerConfig> {
        let limits = self.limits()?;
        let rules = self.rules()?;
        Ok(BreakerConfig {
            name: Arc::from(self.name),
            limits,
            window: self.window,
            rules,
            slow_nanos: self.slow_call_duration.map(duration_to_nanos),
            record_error: self.record_error,
            system_clock: self.clock.is_none(),
            record_durations: self.record_durations,
            timed: self.slow_call_duration.is_some()
                || self.record_durations
                || matches!(self.window, Some(SlidingWindow::Time(_))),
            clock: self.clock.unwrap_or_else(SystemClock::shared),
            listeners: self.listeners,
        })
    }

    fn limits(&self) -> Result<Limits, InvalidBreakerConfig> {
        let permits = self.half_open_permits;
        let successes = self.half_open_successes.unwrap_or(permits);
        count("failure_threshold", self.failure_threshold, MAX_COUNT)?;
        count("half_open_permits", permits, MAX_COUNT)?;
        count("half_open_successes", successes, MAX_COUNT)?;
        if successes > permits {
            return Err(InvalidBreakerConfig::SuccessesExceedPermits { successes, permits });
        }
        if self.max_wait_in_half_open.is_some_and(|d| d.is_zero()) {
            return Err(InvalidBreakerConfig::ZeroDuration { field: "max_wait_in_half_open" });
        }
        Ok(Limits {
            failure_threshold: self.failure_threshold,
            recovery_nanos: duration_to_nanos(self.recovery_timeout),
            half_open_permits: permits,
            half_open_successes: successes,
            half_open_max_nanos: self.max_wait_in_half_open.map(duration_to_nanos),
        })
    }

    fn rules(&self) -> Result<RateRules, InvalidBreakerConfig> {
        if self.slow_call_duration.is_some() != self.slow_call_rate.is_some() {
            return Err(InvalidBreakerConfig::SlowCallIncomplete);
        }
        let Some(window) = self.window else {
            return match (self.failure_rate, self.slow_call_rate) {
                (Some(_), _) => Err(InvalidBreakerConfig::NeedsWindow { field: "failure_rate_threshold" }),
                (_, Some(_)) => Err(InvalidBreakerConfig::NeedsWindow { field: "slow_call_rate_threshold" }),
                _ => Ok(RateRules::default()),
            };
        };
        check_window(window, self.minimum_calls)?;
        Ok(RateRules {
            minimum_calls: u64::from(self.minimum_calls.max(1)),
            failure_rate: Some(percent("failure_rate_threshold", self.failure_rate.unwrap_or(50.0))?),
            slow_rate: self.slow_call_rate.map(|p| percent("slow_call_rate_threshold", p)).transpose()?,
        })
    }
}

fn count(field: &'static str, value: u32, max: u32) -> Result<(), InvalidBreakerConfig> {
    match value {
        0 => Err(InvalidBreakerConfig::Zero { field }),
        v if v > max => Err(InvalidBreakerConfig::TooLarge { field, max: max.into(), value: v.into() }),
        _ => Ok(()),
    }
}

fn percent(field: &'static str, value: f64) -> Result<f64, InvalidBreakerConfig> {
    if value > 0.0 && value <= 100.0 {
        Ok(value)
    } else {
        Err(InvalidBreakerConfig::Percentage { field, value })
    }
}

fn check_window(window: SlidingWindow, minimum_calls: u32) -> Result<(), InvalidBreakerConfig> {
    match window {
        SlidingWindow::Count(n) => {
            count("sliding window size", n, MAX_COUNT_WINDOW)?;
            count("minimum_calls", minimum_calls, n)
        }
        SlidingWindow::Time(d) if d.is_zero() => Err(InvalidBreakerConfig::EmptyTimeWindow),
        SlidingWindow::Time(_) => count("minimum_calls", minimum_calls, u32::MAX),
    }
}

/// When the window's rates open the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct RateRules {
    pub minimum_calls: u64,
    pub failure_rate: Option<f64>,
    pub slow_rate: Option<f64>,
}

impl RateRules {
    /// True if the tally holds enough calls and a rate reaches its threshold.
    pub(crate) fn exceeded(&self, t: super::window::Tally) -> bool {
        let over = |count: u64, limit: Option<f64>| {
            limit.is_some_and(|p| count as f64 * 100.0 >= p * t.rated as f64)
        };
        t.calls >= self.minimum_calls && (over(t.failures, self.failure_rate) || over(t.slow, self.slow_rate))
    }
}

/// A validated configuration.
#[derive(Clone)]
pub(crate) struct BreakerConfig {
    pub name: Arc<str>,
    pub limits: Limits,
    pub window: Option<SlidingWindow>,
    pub rules: RateRules,
    pub slow_nanos: Option<u64>,
    /// True if every call's duration goes to the duration histogram.
    pub record_durations: bool,
    pub record_error: Option<ErrorFilter>,
    pub clock: SharedClock,
    /// True if `clock` is the default [`SystemClock`] (read without a virtual call).
    pub system_clock: bool,
    /// True if every call ends with a clock reading (slow calls, durations or a time window
    /// measured).
    pub timed: bool,
    pub listeners: Listeners,
}

impl fmt::Debug for BreakerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerConfig")
            .field("name", &self.name)
            .field("limits", &self.limits)
            .field("window", &self.window)
            .field("rules", &self.rules)
            .field("slow_nanos", &self.slow_nanos)
            .finish_non_exhaustive()
    }
}

impl BreakerConfig {
    /// The same configuration under another name.
    pub(crate) fn renamed(&self, name: &str) -> Self {
        Self { name: Arc::from(name), ..self.clone() }
    }
}
