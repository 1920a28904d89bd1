//! The seed's "Circuit Breaker Dashboard": every breaker in the registry with its statistics.
//!
//! Run with `cargo run -p elf-resilience --example breaker_dashboard`.

use elf_resilience::{CircuitBreakerRegistry, CircuitStats};

fn simulate_traffic(registry: &CircuitBreakerRegistry) {
    let openai = registry.get_or_create("OpenAI-API");
    for i in 0..20 {
        let _ = openai.call(|| if i % 4 == 0 { Err("timeout") } else { Ok(i) });
    }
    let anthropic = registry.get_or_create("Anthropic-API");
    for _ in 0..8 {
        let _ = anthropic.call(|| Err::<(), _>("503 Service Unavailable"));
    }
    let db = registry.get_or_create("postgres");
    for i in 0..50 {
        let _ = db.call(|| Ok::<_, ()>(i));
    }
    registry.get_or_create("deploy-team-a").force_open();
}

fn print(stats: &CircuitStats) {
    println!("\n{}:", stats.name);
    println!("  State: {}", stats.state);
    println!("  Calls: {} total, {} rejected", stats.total_calls, stats.rejected_calls);
    println!("  Success Rate: {:.1}%", stats.success_rate);
    println!("  Time in State: {:.3}s", stats.time_in_state.as_secs_f64());
}

fn main() {
    // Breakers made anywhere with the global registry show up here.
    let registry = CircuitBreakerRegistry::global();
    simulate_traffic(registry);
    println!("Circuit Breaker Dashboard ({} breakers)", registry.len());
    for stats in registry.stats() {
        print(&stats);
    }
}
