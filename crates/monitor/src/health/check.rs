//! A health check: a named async function, how often to run it, and how to judge it.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::{CheckOutcome, IntoCheckOutcome};

/// The boxed check function a [`HealthCheck`] holds.
pub type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, CheckOutcome> + Send + Sync>;

/// Why a health check or monitor configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HealthCheckError {
    /// The check has an empty name.
    #[error("a health check needs a non-empty name")]
    EmptyName,
    /// A duration that must be positive is zero.
    #[error("health check `{check}`: {field} must be greater than zero")]
    ZeroDuration {
        /// The check.
        check: String,
        /// `interval` or `timeout`.
        field: &'static str,
    },
    /// A threshold that must be at least one is zero.
    #[error("health check `{check}`: {field} must be at least 1")]
    ZeroThreshold {
        /// The check.
        check: String,
        /// `failure_threshold` or `success_threshold`.
        field: &'static str,
    },
    /// A check with this name is already registered.
    #[error("a health check named `{0}` is already registered")]
    Duplicate(String),
    /// No check with this name is registered.
    #[error("no health check named `{0}`")]
    NotFound(String),
}

/// A named async check, run every `interval`, cut at `timeout`.
///
/// # Default
///
/// interval 30 s, timeout 10 s, not critical, failure threshold 3, success threshold 1,
/// no initial delay, no tags.
///
/// ```
/// use elf_resilience_monitor::HealthCheck;
/// use std::time::Duration;
///
/// let check = HealthCheck::builder("database_connections", || async { 12 < 100 * 8 / 10 })
///     .interval(Duration::from_secs(60))
///     .timeout(Duration::from_secs(10))
///     .critical(true)
///     .build()
///     .unwrap();
/// assert_eq!(check.failure_threshold(), 3);
/// assert!(HealthCheck::builder("", || async { true }).build().is_err());
/// ```
#[derive(Clone)]
pub struct HealthCheck {
    pub(crate) name: Arc<str>,
    pub(crate) check: CheckFn,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) critical: bool,
    pub(crate) failure_threshold: u32,
    pub(crate) success_threshold: u32,
    pub(crate) initial_delay: Duration,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) measurement: Option<String>,
    pub(crate) component_type: Option<String>,
}

impl fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthCheck")
            .field("name", &self.name)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("critical", &self.critical)
            .field("failure_threshold", &self.failure_threshold)
            .field("success_threshold", &self.success_threshold)
            .finish_non_exhaustive()
    }
}

impl HealthCheck {
    /// Starts a check named `name` around `check`, an async function returning a `bool`, a
    /// [`CheckOutcome`], or a `Result` of either.
    pub fn builder<F, Fut, O>(name: impl Into<String>, check: F) -> HealthCheckBuilder
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = O> + Send + 'static,
        O: IntoCheckOutcome + 'static,
    {
        let check: CheckFn = Arc::new(move || check().map(IntoCheckOutcome::into_check_outcome).boxed());
        HealthCheckBuilder { inner: Self::with_defaults(name.into(), check) }
    }

    fn with_defaults(name: String, check: CheckFn) -> Self {
        Self {
            name: name.into(),
            check,
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            critical: false,
            failure_threshold: 3,
            success_threshold: 1,
            initial_delay: Duration::ZERO,
            tags: BTreeMap::new(),
            measurement: None,
            component_type: None,
        }
    }

    /// The check's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// How often it runs.
    pub fn interval(&self) -> Duration {
        self.interval
    }
    /// How long one run may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// Whether an unhealthy result makes the whole service unhealthy.
    pub fn is_critical(&self) -> bool {
        self.critical
    }
    /// Consecutive failing runs before the check turns worse (the first run sets the status at once).
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }
    /// Consecutive better runs before the check turns better.
    pub fn success_threshold(&self) -> u32 {
        self.success_threshold
    }
    /// Delay before the first run.
    pub fn initial_delay(&self) -> Duration {
        self.initial_delay
    }
    /// Free-form labels.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }
    /// The measurement name used in health+json keys (`name:measurement`).
    pub fn measurement(&self) -> Option<&str> {
        self.measurement.as_deref()
    }
    /// The component type reported in health+json (`system`, `datastore`, `component`).
    pub fn component_type(&self) -> Option<&str> {
        self.component_type.as_deref()
    }

    fn validate(self) -> Result<Self, HealthCheckError> {
        let check = || self.name.to_string();
        if self.name.trim().is_empty() {
            return Err(HealthCheckError::EmptyName);
        }
        for (field, d) in [("interval", self.interval), ("timeout", self.timeout)] {
            if d.is_zero() {
                return Err(HealthCheckError::ZeroDuration { check: check(), field });
            }
        }
        for (field, n) in
            [("failure_threshold", self.failure_threshold), ("success_threshold", self.success_threshold)]
        {
            if n == 0 {
                return Err(HealthCheckError::ZeroThreshold { check: check(), field });
            }
        }
        Ok(self)
    }
}

/// Builds a [`HealthCheck`]; [`build`](Self::build) validates it.
#[derive(Debug)]
#[must_use]
pub struct HealthCheckBuilder {
    inner: HealthCheck,
}

impl HealthCheckBuilder {
    /// How often the check runs (must be > 0).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.inner.interval = interval;
        self
    }
    /// How long one run may take before it fails as timed out (must be > 0).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner.timeout = timeout;
        self
    }
    /// Whether an unhealthy result makes the whole service unhealthy.
    pub fn critical(mut self, critical: bool) -> Self {
        self.inner.critical = critical;
        self
    }
    /// Consecutive failing runs before the status turns worse (>= 1); the first run of a check
    /// sets its status at once, the threshold applies to later transitions.
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.inner.failure_threshold = n;
        self
    }
    /// Consecutive better runs before the status turns better (>= 1).
    pub fn success_threshold(mut self, n: u32) -> Self {
        self.inner.success_threshold = n;
        self
    }
    /// Delay before the first run (jitter is added on top).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.inner.initial_delay = delay;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner.tags.insert(key.into(), value.into());
        self
    }
    /// The measurement name for health+json (`cpu:utilization`).
    pub fn measurement(mut self, measurement: impl Into<String>) -> Self {
        self.inner.measurement = Some(measurement.into());
        self
    }
    /// The component type for health+json.
    pub fn component_type(mut self, component_type: impl Into<String>) -> Self {
        self.inner.component_type = Some(component_type.into());
        self
    }
    /// Validates and returns the check.
    pub fn build(self) -> Result<HealthCheck, HealthCheckError> {
        self.inner.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> HealthCheckBuilder {
        HealthCheck::builder("c", || async { true })
    }

    #[test]
    fn rejects_bad_config() {
        assert_eq!(
            HealthCheck::builder(" ", || async { true }).build().unwrap_err(),
            HealthCheckError::EmptyName
        );
        let e = b().interval(Duration::ZERO).build().unwrap_err();
        assert_eq!(e, HealthCheckError::ZeroDuration { check: "c".into(), field: "interval" });
        let e = b().timeout(Duration::ZERO).build().unwrap_err();
        assert_eq!(e, HealthCheckError::ZeroDuration { check: "c".into(), field: "timeout" });
        let e = b().success_threshold(0).build().unwrap_err();
        assert_eq!(e, HealthCheckError::ZeroThreshold { check: "c".into(), field: "success_threshold" });
    }

    #[test]
    fn defaults() {
        let c = b().build().unwrap();
        assert_eq!((c.interval(), c.timeout()), (Duration::from_secs(30), Duration::from_secs(10)));
        assert_eq!((c.failure_threshold(), c.success_threshold(), c.is_critical()), (3, 1, false));
    }
}
