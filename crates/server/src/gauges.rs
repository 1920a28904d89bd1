//! Gauges refreshed before each `/metrics` scrape: resources, breakers, queue and health.

use elf_resilience::{CircuitState, Context, HealthStatus, ResourceStatus, ResourceType, TicketStatus};

use crate::state::AppState;

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
