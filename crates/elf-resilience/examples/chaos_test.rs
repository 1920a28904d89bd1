//! The seed's "Test your resilience" chaos test: simulated quota exhaustion must fall back
//! gracefully, and a breaker tripped by one failure must reject the next call.
//!
//! Run with `cargo run -p elf-resilience --example chaos_test`.

use std::error::Error;
use std::sync::Arc;

use elf_resilience::{
    CircuitBreaker, FallbackProtocol, ResourceStatus, ResourceType, StaticGate, with_fallback,
};

type BoxError = Box<dyn Error + Send + Sync>;

#[with_fallback(ApiQuota, switch = model)]
async fn resilient_llm_call(prompt: &str, team_name: &str, model: &str) -> Result<String, BoxError> {
    let note = if model == "gpt-4" { "primary" } else { "fallback" };
    Ok(format!("{note} answer from {model} for {team_name}: {prompt}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    // Simulate resource exhaustion.
    let gate = Arc::new(StaticGate::new());
    gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
    FallbackProtocol::set_global(
        FallbackProtocol::builder().gate(gate).providers(["gpt-4", "claude"]).build()?,
    );

    // Should fall back gracefully.
    let result = resilient_llm_call("test prompt", "test-team", "gpt-4").await?;
    assert!(result.to_lowercase().contains("fallback"), "{result}");
    println!("quota exhausted -> {result}");

    // Simulate a circuit breaker trip.
    let cb = CircuitBreaker::builder().name("test-breaker").failure_threshold(1).build()?;
    let failed = cb.call(|| Err::<(), _>("division by zero"));
    println!("first call -> {}", failed.unwrap_err());

    // Should be open now.
    let rejected = cb.call(|| Ok::<_, String>("This should fail")).unwrap_err();
    assert!(rejected.to_string().contains("Circuit breaker 'test-breaker' is OPEN"), "{rejected}");
    println!("second call -> {rejected}");
    println!("chaos test passed");
    Ok(())
}
