//! Gauges refreshed before each `/metrics` scrape: resources, breakers, queue and health.

use elf_resilience::{CircuitState, Context, HealthStatus, ResourceStatus, ResourceType, TicketStatus};

use crate::state::AppState;

/// Registers the help text of the server's gauges (call once, after installing the recorder).
pub fn describe() {
    metrics::describe_gauge!("elf_resource_usage_ratio", "Usage of each resource type, 0 to 1.");
    metrics::describe_gauge!(
        "elf_resource_status",
        "Status of each resource type: 0 healthy, 1 warning, 2 critical, 3 exhausted, -1 unknown."
    );
    metrics::describe_gauge!(
        "elf_circuit_breaker_open",
        "1 when the circuit breaker is open (or forced open)."
    );
    metrics::describe_gauge!(
        "elf_circuit_breaker_state",
        "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled."
    );
    metrics::describe_gauge!("elf_queue_requests", "Requests in the durable queue by status.");
    metrics::describe_gauge!(
        "elf_health_status",
        "Overall health: 0 healthy, 1 degraded, 2 unhealthy, -1 unknown."
    );
}

/// Adds a `# HELP` line to every metric family that has none, so the exposition passes
/// `promtool check metrics` whatever part of the program recorded it.
pub fn with_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut helped = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("# HELP ").and_then(|r| r.split(' ').next()) {
            helped.insert(name.to_owned());
        }
        let typed = line.strip_prefix("# TYPE ").and_then(|r| r.split(' ').next());
        if let Some(name) = typed.filter(|n| helped.insert((*n).to_owned())) {
            out.push_str(&format!("# HELP {name} {}\n", name.replace('_', " ")));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Sets every gauge from the current state.
pub fn update(state: &AppState) {
    for ty in ResourceType::ALL {
        let (status, usage) = state.resources.check_resource(ty, &Context::new());
        metrics::gauge!("elf_resource_usage_ratio", "resource" => ty.as_str()).set(usage / 100.0);
        metrics::gauge!("elf_resource_status", "resource" => ty.as_str()).set(status_code(status));
    }
    for stats in state.breakers.stats() {
        let open = matches!(stats.state, CircuitState::Open | CircuitState::ForcedOpen);
        metrics::gauge!("elf_circuit_breaker_open", "name" => stats.name.clone())
            .set(f64::from(u8::from(open)));
        metrics::gauge!("elf_circuit_breaker_state", "name" => stats.name)
            .set(f64::from(stats.state.as_code()));
    }
    for st in [TicketStatus::Pending, TicketStatus::Leased, TicketStatus::DeadLettered] {
        let depth = state.queue.list(Some(st), usize::MAX).map_or(0, |v| v.len());
        metrics::gauge!("elf_queue_requests", "status" => st.as_str()).set(depth as f64);
    }
    let health = state.health.get_health_status(None);
    metrics::gauge!("elf_health_status").set(health_code(health));
}

/// 0 healthy, 1 warning, 2 critical, 3 exhausted, -1 unknown.
fn status_code(s: ResourceStatus) -> f64 {
    match s {
        ResourceStatus::Healthy => 0.0,
        ResourceStatus::Warning => 1.0,
        ResourceStatus::Critical => 2.0,
        ResourceStatus::Exhausted => 3.0,
        _ => -1.0,
    }
}

/// 0 healthy, 1 degraded, 2 unhealthy, -1 unknown.
fn health_code(s: HealthStatus) -> f64 {
    match s {
        HealthStatus::Healthy => 0.0,
        HealthStatus::Degraded => 1.0,
        HealthStatus::Unhealthy => 2.0,
        _ => -1.0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn help_is_added_once() {
        let text = "# HELP a_total known\n# TYPE a_total counter\na_total 1\n# TYPE b gauge\nb 2\n";
        let out = super::with_help(text);
        assert_eq!(out.matches("# HELP a_total").count(), 1);
        assert!(out.contains("# HELP b b\n# TYPE b gauge\n"));
    }
}
