//! What an execution returns: the value or a queued ticket, and the trace of every decision.
//!
//! Durations in the trace serialize as milliseconds (`duration_ms`, `elapsed_ms`: floats with
//! nanosecond precision), which read well in logs and dashboards and parse back exactly.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::queue::Ticket;
use super::strategy::FallbackStrategy;
use crate::resource::ResourceType;

/// What happened at one step of an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TraceKind {
    /// The operation was called and succeeded.
    Succeeded,
    /// The operation was called and failed.
    Failed,
    /// A step was not taken (resource short, breaker open, nothing to use); `note` says why.
    Skipped,
    /// The answer came from the cache.
    FromCache,
    /// The request was queued.
    Queued,
    /// The call was rejected (shed or breaker open).
    Rejected,
    /// A delay before the next attempt.
    Waited,
}

/// One decision of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// The strategy at work; `None` for the primary call and the pre-flight checks.
    pub strategy: Option<FallbackStrategy>,
    /// What happened.
    pub kind: TraceKind,
    /// The attempt number when the operation was called, else the last one.
    pub attempt: u32,
    /// The provider in use, if any.
    pub provider: Option<String>,
    /// The degrade level in use.
    pub degrade_level: usize,
    /// The operation's error, for `Failed`.
    pub error: Option<String>,
    /// Why a step was skipped or rejected, or other detail.
    pub note: Option<String>,
    /// How long the step took; serialized as `duration_ms`, a float of milliseconds.
    #[serde(rename = "duration_ms", with = "millis")]
    pub duration: Duration,
}

/// The record of one execution, attached to every outcome and error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Trace {
    /// The resource the call used.
    pub resource: Option<ResourceType>,
    /// Every decision, in order.
    pub events: Vec<TraceEvent>,
    /// How long the whole execution took; serialized as `elapsed_ms`, a float of milliseconds.
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
}

impl Trace {
    /// How many times the operation was called.
    pub fn calls(&self) -> usize {
        self.events.iter().filter(|e| matches!(e.kind, TraceKind::Succeeded | TraceKind::Failed)).count()
    }

    /// The strategies that acted, in order, without repeats in a row.
    pub fn strategies(&self) -> Vec<Option<FallbackStrategy>> {
        let mut out: Vec<Option<FallbackStrategy>> = Vec::new();
        for e in &self.events {
            if out.last() != Some(&e.strategy) {
                out.push(e.strategy);
            }
        }
        out
    }
}

/// How an execution was served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Served {
    /// The strategy that produced the answer; `None` when the first call succeeded.
    pub by: Option<FallbackStrategy>,
    /// The provider that answered.
    pub provider: Option<String>,
    /// The degrade level of the answer.
    pub degrade_level: usize,
    /// Whether the answer came from the cache.
    pub from_cache: bool,
    /// For a cached answer, whether it was past its TTL.
    pub stale: bool,
    /// Every decision that led here.
    pub trace: Trace,
}

/// The result of a successful execution: a value, or the ticket of a queued request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome<T> {
    /// An answer, with how it was obtained.
    Value {
        /// The answer.
        value: T,
        /// How it was served.
        served: Served,
    },
    /// The request was queued for later replay.
    Queued {
        /// Its ticket, for status lookup and awaiting.
        ticket: Ticket,
        /// Every decision that led here.
        trace: Trace,
    },
}

impl<T> Outcome<T> {
    /// The answer, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value { value, .. } => Some(value),
            Self::Queued { .. } => None,
        }
    }

    /// The answer, consuming the outcome.
    pub fn into_value(self) -> Option<T> {
        match self {
            Self::Value { value, .. } => Some(value),
            Self::Queued { .. } => None,
        }
    }

    /// The ticket, if the request was queued.
    pub fn ticket(&self) -> Option<&Ticket> {
        match self {
            Self::Queued { ticket, .. } => Some(ticket),
            Self::Value { .. } => None,
        }
    }

    /// How the answer was served, if there is one.
    pub fn served(&self) -> Option<&Served> {
        match self {
            Self::Value { served, .. } => Some(served),
            Self::Queued { .. } => None,
        }
    }

    /// The strategy that served the outcome (`QueueRequest` for a queued one).
    pub fn served_by(&self) -> Option<FallbackStrategy> {
        match self {
            Self::Value { served, .. } => served.by,
            Self::Queued { .. } => Some(FallbackStrategy::QueueRequest),
        }
    }

    /// The trace of the execution.
    pub fn trace(&self) -> &Trace {
        match self {
            Self::Value { served, .. } => &served.trace,
            Self::Queued { trace, .. } => trace,
        }
    }
}

/// A `Duration` as a float of milliseconds, e.g. `1.5` for 1.5 ms, exact to the nanosecond for
/// any duration under three weeks (a trace step is far shorter), within a few nanoseconds beyond.
mod millis {
    use std::time::Duration;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    const NANOS_PER_MS: f64 = 1e6;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_nanos() as f64 / NANOS_PER_MS)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        if !ms.is_finite() || ms < 0.0 {
            return Err(D::Error::custom(format!(
                "a duration in milliseconds must be finite and >= 0, got {ms}"
            )));
        }
        let nanos = (ms * NANOS_PER_MS).round();
        if nanos < u64::MAX as f64 {
            Ok(Duration::from_nanos(nanos as u64))
        } else {
            Duration::try_from_secs_f64(ms / 1e3).map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn event(duration: Duration) -> TraceEvent {
        TraceEvent {
            strategy: Some(FallbackStrategy::Retry),
            kind: TraceKind::Waited,
            attempt: 2,
            provider: None,
            degrade_level: 0,
            error: None,
            note: None,
            duration,
        }
    }

    #[test]
    fn durations_serialize_as_float_milliseconds() {
        let trace = Trace {
            resource: Some(ResourceType::Network),
            events: vec![event(Duration::from_micros(1_500))],
            elapsed: Duration::from_secs(2),
        };
        let json = serde_json::to_value(&trace).unwrap();
        assert_eq!(json["elapsed_ms"], json!(2000.0));
        assert_eq!(json["events"][0]["duration_ms"], json!(1.5));
        assert!(json["events"][0].get("duration").is_none(), "{json}");
        assert!(serde_json::to_string(&event(Duration::ZERO)).unwrap().contains("\"duration_ms\":0.0"));
        assert_eq!(serde_json::from_value::<Trace>(json).unwrap(), trace);
    }

    #[test]
    fn negative_or_old_shaped_durations_are_rejected() {
        let bad = json!({"resource": null, "events": [], "elapsed_ms": -1.0});
        let err = serde_json::from_value::<Trace>(bad).unwrap_err().to_string();
        assert!(err.contains("must be finite and >= 0"), "{err}");
        let old = json!({"resource": null, "events": [], "elapsed": {"secs": 1, "nanos": 0}});
        assert!(serde_json::from_value::<Trace>(old).is_err());
    }

    proptest! {
        #[test]
        fn milliseconds_round_trip_to_the_nanosecond(nanos in 0u64..1_814_400_000_000_000) {
            let e = event(Duration::from_nanos(nanos));
            let back: TraceEvent = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
            prop_assert_eq!(back.duration, e.duration);
        }
    }
}
