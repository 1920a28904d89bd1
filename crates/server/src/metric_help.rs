//! The `# HELP` text of every metric the program records, registered with the recorder once
//! it is installed; a metric family missing here still gets a (generic) `# HELP` line from
//! [`gauges::with_help`](crate::gauges::with_help), so the exposition always passes
//! `promtool check metrics`.

/// What kind of metric a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A monotonic count (`_total`).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A distribution (`_bucket`, `_sum`, `_count`).
    Histogram,
}

use Kind::{Counter, Gauge, Histogram};

/// Every metric: name, kind and help text.
pub const METRICS: &[(&str, Kind, &str)] = &[
    ("elf_build_info", Gauge, "Always 1; the version label names the running elf-resilience build."),
    (
        "elf_resource_usage_ratio",
        Gauge,
        "Usage of each resource type as the resource manager reports it (its probes combined), 0 to 1.",
    ),
    (
        "elf_resource_status",
        Gauge,
        "Status of each resource type: 0 healthy, 1 warning, 2 critical, 3 exhausted, -1 unknown.",
    ),
    ("elf_probe_usage_ratio", Gauge, "Usage each probe measured at its last sample, 0 to 1."),
    (
        "elf_probe_up",
        Gauge,
        "1 when the probe's last sample measured its resource (and, for network and MCP probes, reached the endpoint), else 0.",
    ),
    ("elf_probe_latency_seconds", Gauge, "Seconds the probe's last sample took, up to the probe's timeout."),
    (
        "elf_resource_probe_failures_total",
        Counter,
        "Samples in which a probe could not measure its resource (an error or a timeout), by resource and probe.",
    ),
    (
        "elf_network_probe_down_total",
        Counter,
        "Samples in which a network probe (tcp or http) found its endpoint down, by probe.",
    ),
    (
        "elf_mcp_probe_down_total",
        Counter,
        "Samples in which an MCP probe found its server down or not answering, by probe.",
    ),
    (
        "elf_circuit_breaker_state",
        Gauge,
        "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled.",
    ),
    ("elf_circuit_breaker_open", Gauge, "1 when the circuit breaker is open (or forced open), else 0."),
    (
        "elf_circuit_breaker_snapshot_age_seconds",
        Gauge,
        "Seconds since another process last published this breaker.",
    ),
    (
        "elf_circuit_breaker_calls_total",
        Counter,
        "Calls through each circuit breaker, by outcome: success, failure, rejected, ignored.",
    ),
    (
        "elf_circuit_breaker_slow_calls_total",
        Counter,
        "Calls through each circuit breaker that took at least its slow-call duration.",
    ),
    (
        "elf_circuit_breaker_transitions_total",
        Counter,
        "Circuit breaker state transitions, by breaker and the state entered.",
    ),
    (
        "elf_circuit_breaker_failure_rate",
        Gauge,
        "Failed calls over successful and failed calls through each circuit breaker since it was built, 0 to 1.",
    ),
    (
        "elf_circuit_breaker_slow_call_rate",
        Gauge,
        "Slow calls over successful and failed calls through each circuit breaker since it was built, 0 to 1.",
    ),
    (
        "elf_circuit_breaker_call_duration_seconds",
        Histogram,
        "Durations of the calls through circuit breakers that record them, in seconds.",
    ),
    ("elf_queue_requests", Gauge, "Requests in the durable queue, by status."),
    (
        "elf_queue_replayed_total",
        Counter,
        "Queued requests the replay worker delivered, by result: ok, failed.",
    ),
    ("elf_health_status", Gauge, "Overall health: 0 healthy, 1 degraded, 2 unhealthy, -1 unknown."),
    ("elf_health_check_runs_total", Counter, "Health check runs, by the status each observed."),
    ("elf_health_check_transitions_total", Counter, "Health check status changes, by the status entered."),
    (
        "elf_health_check_skipped_total",
        Counter,
        "Scheduled health check runs skipped because the check's previous run had not finished.",
    ),
    ("elf_health_alerts_total", Counter, "Health alerts, by outcome: sent, failed, dropped."),
    (
        "elf_quota_provider_usage_ratio",
        Gauge,
        "Share of each model's provider rate limit in use, from the provider's rate-limit headers, 0 to 1.",
    ),
    (
        "elf_quota_blocks_total",
        Counter,
        "Times a model was blocked after its provider refused for rate or billing limits, by model.",
    ),
    ("elf_ledger_batches_total", Counter, "Batches of usage records written to the usage ledger."),
    (
        "elf_fallback_served_total",
        Counter,
        "Requests the fallback chain answered, by resource and by what served them.",
    ),
    (
        "elf_fallback_exhausted_total",
        Counter,
        "Requests for which every fallback strategy failed, by resource.",
    ),
    (
        "elf_fallback_queued_total",
        Counter,
        "Requests the fallback chain put in the durable queue, by resource.",
    ),
    ("elf_fallback_shed_total", Counter, "Requests the fallback chain shed under load, by resource."),
    ("elf_retry_attempts_total", Counter, "Retries made after a failed attempt."),
    (
        "elf_retry_giveups_total",
        Counter,
        "Calls a retry policy gave up on, by reason: exhausted, elapsed_limit, budget_spent, not_retryable.",
    ),
    ("elf_rate_limited_total", Counter, "Calls a rate limiter refused."),
    (
        "elf_bulkhead_rejected_total",
        Counter,
        "Calls a bulkhead refused because its concurrency limit was reached.",
    ),
    ("elf_timeouts_total", Counter, "Calls cut off by a timeout policy."),
];

/// The help text of `name`, if it is one of [`METRICS`].
pub fn help(name: &str) -> Option<&'static str> {
    METRICS.iter().find(|(n, _, _)| *n == name).map(|(_, _, h)| *h)
}

/// Registers every help text with the installed recorder.
pub fn describe() {
    for &(name, kind, help) in METRICS {
        match kind {
            Counter => metrics::describe_counter!(name, help),
            Gauge => metrics::describe_gauge!(name, help),
            Histogram => metrics::describe_histogram!(name, help),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_counters_end_in_total() {
        let mut names: Vec<_> = METRICS.iter().map(|(n, _, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
        for (name, kind, help) in METRICS {
            assert!(name.starts_with("elf_"), "{name}");
            assert_eq!(*kind == Counter, name.ends_with("_total"), "{name}");
            assert_ne!(*help, name.replace('_', " "), "{name}: a specific help text");
        }
    }
}
