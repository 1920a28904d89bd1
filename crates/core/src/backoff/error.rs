//! Why a backoff configuration was rejected.

use thiserror::Error;

/// A backoff configuration that cannot produce a sensible schedule.
///
/// Returned by the `build()` of every backoff builder (and `try_new`): a schedule exists only
/// once its settings passed these checks, so a bad value is caught when the policy is made,
/// never while a call is being retried. In a `const`, a builder's `build_const()` turns the
/// same checks into a compile error.
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

/// `?` for a check inside a `const fn`, where `?` is not allowed: returns its error.
macro_rules! const_try {
    ($check:expr) => {
        if let Err(e) = $check {
            return Err(e);
        }
    };
}

pub(crate) use const_try;

/// Checks that `value` is finite and at least 1.
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

impl InvalidBackoff {
    /// Stops with this error's message: in a `const` item, compilation stops there (see the
    /// builders' `build_const`).
    #[track_caller]
    pub(crate) const fn fail(&self) -> ! {
        panic!("{}", self.const_message())
    }

    /// The message, naming the field, where a `const fn` cannot format: fixed text per setting.
    const fn const_message(&self) -> &'static str {
        match *self {
            Self::NotFinite { field, .. } => {
                pick(field, FINITE, "invalid backoff: a factor must be a finite number")
            }
            Self::MultiplierBelowOne { field, .. } => {
                pick(field, AT_LEAST_ONE, "invalid backoff: a growth factor must be at least 1")
            }
            Self::ZeroDelay { field } => {
                pick(field, NONZERO, "invalid backoff: a delay must be greater than zero")
            }
            Self::MaxBelowBase { field, .. } => {
                pick(field, CAP, "invalid backoff: max_delay is below the first delay")
            }
            Self::ReductionOutOfRange { .. } => "invalid backoff: success_reduction must be in (0, 1]",
            Self::BelowMinimum { .. } => "invalid backoff: initial_delay is below min_delay",
        }
    }
}

/// Messages by field, for [`InvalidBackoff::const_message`].
type Messages = &'static [(&'static str, &'static str)];

const FINITE: Messages = &[
    ("multiplier", "invalid backoff: multiplier must be a finite number"),
    ("failure_increase", "invalid backoff: failure_increase must be a finite number"),
    ("success_reduction", "invalid backoff: success_reduction must be a finite number"),
];
const AT_LEAST_ONE: Messages = &[
    ("multiplier", "invalid backoff: multiplier must be at least 1"),
    ("failure_increase", "invalid backoff: failure_increase must be at least 1"),
];
const NONZERO: Messages = &[
    ("base_delay", "invalid backoff: base_delay must be greater than zero"),
    ("increment", "invalid backoff: increment must be greater than zero"),
    ("min_delay", "invalid backoff: min_delay must be greater than zero"),
];
const CAP: Messages = &[
    ("base_delay", "invalid backoff: max_delay is below base_delay"),
    ("min_delay", "invalid backoff: max_delay is below min_delay"),
    ("initial_delay", "invalid backoff: max_delay is below initial_delay"),
];

/// The message for `field` in `table`, else `other`.
const fn pick(field: &str, table: Messages, other: &'static str) -> &'static str {
    let mut i = 0;
    while i < table.len() {
        if same(field, table[i].0) {
            return table[i].1;
        }
        i += 1;
    }
    other
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
