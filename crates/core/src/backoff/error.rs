//! Why a backoff configuration was rejected.

use thiserror::Error;

/// A backoff configuration that cannot produce a sensible schedule.
///
/// Returned by the `build()` and `try_new` constructors of every backoff, so a bad value is
/// caught when the policy is made, never while a call is being retried.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum InvalidBackoff {
    /// A factor is NaN or infinite.
    #[error("{field} must be a finite number, got {value}")]
    NotFinite {
        /// The setting at fault.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A growth factor is below 1, so delays would shrink.
    #[error("{field} must be at least 1, got {value}")]
    MultiplierBelowOne {
        /// The setting at fault.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A reduction factor is outside `(0, 1]`.
    #[error("{field} must be in (0, 1], got {value}")]
    ReductionOutOfRange {
        /// The setting at fault.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A delay is zero where the schedule needs a positive one (it would stay at zero).
    #[error("{field} must be greater than zero")]
    ZeroDelay {
        /// The setting at fault.
        field: &'static str,
    },
    /// The cap is below the starting delay.
    #[error("max_delay ({max:?}) is below {field} ({base:?})")]
    MaxBelowBase {
        /// The setting the cap was compared with.
        field: &'static str,
        /// The starting delay.
        base: std::time::Duration,
        /// The cap.
        max: std::time::Duration,
    },
    /// A delay is below the configured minimum.
    #[error("{field} ({value:?}) is below min_delay ({min:?})")]
    BelowMinimum {
        /// The setting at fault.
        field: &'static str,
        /// The value given.
        value: std::time::Duration,
        /// The minimum.
        min: std::time::Duration,
    },
}

/// Checks that `value` is finite and at least 1.
/// `?` for a check inside a `const fn`, where `?` is not allowed: returns its error.
macro_rules! const_try {
    ($check:expr) => {
        if let Err(e) = $check {
            return Err(e);
        }
    };
}

pub(crate) use const_try;

pub(crate) const fn check_growth(field: &'static str, value: f64) -> Result<(), InvalidBackoff> {
    if !value.is_finite() {
        return Err(InvalidBackoff::NotFinite { field, value });
    }
    if value < 1.0 {
        return Err(InvalidBackoff::MultiplierBelowOne { field, value });
    }
    Ok(())
}

/// Checks that `max >= base`.
pub(crate) const fn check_cap(
    field: &'static str,
    base: std::time::Duration,
    max: std::time::Duration,
) -> Result<(), InvalidBackoff> {
    if max.as_nanos() < base.as_nanos() {
        return Err(InvalidBackoff::MaxBelowBase { field, base, max });
    }
    Ok(())
}

/// Checks that a delay is not zero.
pub(crate) const fn check_nonzero(field: &'static str, d: std::time::Duration) -> Result<(), InvalidBackoff> {
    if d.is_zero() {
        return Err(InvalidBackoff::ZeroDelay { field });
    }
    Ok(())
}
