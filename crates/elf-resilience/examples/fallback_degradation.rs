//! The seed's service degradation: the same report at lower quality when quota runs low.
//!
//! Run with `cargo run -p elf-resilience --example fallback_degradation`.

use std::sync::Arc;

use elf_resilience::{
    Context, FallbackProtocol, FallbackRequest, FallbackStrategy, ResourceStatus, ResourceType, StaticGate,
};

/// Pretends to call an LLM; refuses prompts that would not fit the remaining quota.
fn generate_report(data: &str, max_tokens: u32, temperature: f32, budget: u32) -> Result<String, String> {
    if max_tokens > budget {
        return Err(format!("{max_tokens} tokens exceed the remaining {budget}"));
    }
    Ok(format!("report on {data} ({max_tokens} tokens, temperature {temperature:.2})"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gate = Arc::new(StaticGate::new());
    let protocol = FallbackProtocol::builder().gate(gate.clone()).build()?;
    for (status, budget) in
        [(ResourceStatus::Healthy, 4_000), (ResourceStatus::Warning, 1_200), (ResourceStatus::Critical, 600)]
    {
        gate.set(ResourceType::ApiQuota, status, 0.0);
        let req = FallbackRequest::new(ResourceType::ApiQuota)
            .context(Context::new().operation("generate_report"))
            .strategies([FallbackStrategy::DegradeService]);
        let outcome = protocol.execute_request_blocking(req, |a| {
            generate_report("sales", a.max_tokens(2_000), a.temperature(0.7), budget)
        })?;
        let served = outcome.served().expect("a value");
        println!(
            "quota {status:<8} -> level {}: {}",
            served.degrade_level,
            outcome.value().expect("a value")
        );
    }
    Ok(())
}
