//! The health monitor: scheduling, thresholds, transitions and health+json under paused time,
//! and the HTTP alert sinks against a real receiver (feature `http`).

#[cfg(feature = "http")]
mod alerts;
mod monitor;
