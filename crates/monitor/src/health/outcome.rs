//! What one run of a check says: pass, warn or fail, with a message and a measured value.

use std::borrow::Cow;
use std::fmt;

use super::HealthStatus;

/// The result of one run of a check function.
///
/// Check functions may return a `bool`, a `CheckOutcome`, or a `Result` of either (an `Err`
/// fails the run with the error's message): see [`IntoCheckOutcome`].
///
/// ```
/// use elf_resilience_monitor::{CheckOutcome, HealthStatus};
///
/// let o = CheckOutcome::degraded("82 of 100 connections in use").with_observed(82.0, "percent");
/// assert_eq!(o.status, HealthStatus::Degraded);
/// assert_eq!(o.observed_value, Some(82.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// Healthy, Degraded or Unhealthy (Unknown is read as Unhealthy).
    pub status: HealthStatus,
    /// A short human-readable account.
    pub message: Cow<'static, str>,
    /// The figure measured, if any (`observedValue` in health+json).
    pub observed_value: Option<f64>,
    /// Its unit ("percent", "ms", "connections").
    pub observed_unit: Option<String>,
}

impl CheckOutcome {
    fn with_status(status: HealthStatus, message: impl Into<Cow<'static, str>>) -> Self {
        Self { status, message: message.into(), observed_value: None, observed_unit: None }
    }

    /// A passing run.
    pub fn healthy(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_status(HealthStatus::Healthy, message)
    }

    /// A run that works with a warning.
    pub fn degraded(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_status(HealthStatus::Degraded, message)
    }

    /// A failing run.
    pub fn unhealthy(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_status(HealthStatus::Unhealthy, message)
    }

    /// Adds the measured value and its unit.
    pub fn with_observed(mut self, value: f64, unit: impl Into<String>) -> Self {
        self.observed_value = Some(value);
        self.observed_unit = Some(unit.into());
        self
    }

    /// The status used by the monitor: Unknown counts as a failure.
    pub(crate) fn effective_status(&self) -> HealthStatus {
        match self.status {
            HealthStatus::Unknown => HealthStatus::Unhealthy,
            s => s,
        }
    }
}

/// What a check function may return.
pub trait IntoCheckOutcome {
    /// Turns the value into an outcome.
    fn into_check_outcome(self) -> CheckOutcome;
}

impl IntoCheckOutcome for CheckOutcome {
    fn into_check_outcome(self) -> CheckOutcome {
        self
    }
}

impl IntoCheckOutcome for bool {
    fn into_check_outcome(self) -> CheckOutcome {
        if self { CheckOutcome::healthy("check passed") } else { CheckOutcome::unhealthy("check failed") }
    }
}

impl<T: IntoCheckOutcome, E: fmt::Display> IntoCheckOutcome for Result<T, E> {
    fn into_check_outcome(self) -> CheckOutcome {
        match self {
            Ok(v) => v.into_check_outcome(),
            Err(e) => CheckOutcome::unhealthy(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(true.into_check_outcome().status, HealthStatus::Healthy);
        assert_eq!(false.into_check_outcome().status, HealthStatus::Unhealthy);
        let r: Result<bool, String> = Err("refused".into());
        let o = r.into_check_outcome();
        assert_eq!((o.status, &*o.message), (HealthStatus::Unhealthy, "refused"));
        let r: Result<CheckOutcome, String> = Ok(CheckOutcome::degraded("slow"));
        assert_eq!(r.into_check_outcome().status, HealthStatus::Degraded);
    }
}
