//! The seed's manual `FallbackProtocol` usage: `execute_with_fallback` and `add_stage_hook`.
//!
//! Run with `cargo run -p elf-resilience --example fallback_manual`.

use std::sync::Arc;
use std::time::Duration;

use elf_resilience::{
    Context, FallbackEvent, FallbackProtocol, FallbackStage, FixedDelay, ResourceStatus, ResourceType,
    StaticGate,
};

async fn log_fallback(event: FallbackEvent) {
    let team = event.context.team_name.as_deref().unwrap_or("-");
    println!("  hook: fallback to {:?} for team {team}", event.strategy);
}

async fn expensive_operation(batch_size: usize) -> Result<usize, String> {
    if batch_size > 2_500 { Err(format!("out of memory at batch {batch_size}")) } else { Ok(batch_size) }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gate = Arc::new(StaticGate::new());
    gate.set(ResourceType::Memory, ResourceStatus::Warning, 82.0);
    let protocol = FallbackProtocol::builder()
        .gate(gate)
        .retry_backoff(FixedDelay::new().with_max_retries(1).with_delay(Duration::from_millis(5)))
        .add_stage_hook(FallbackStage::StrategyChanged, log_fallback)
        .add_stage_hook(FallbackStage::Served, |e| async move {
            println!("  hook: served at attempt {}", e.attempt);
        })
        .build()?;

    let ctx = Context::new().team("data-team").operation("data_processing");
    let outcome = protocol
        .execute_with_fallback(ctx, ResourceType::Memory, |attempt| {
            expensive_operation(attempt.batch_size(10_000))
        })
        .await?;
    println!("processed with batch size {:?}", outcome.value());
    println!("trace: {}", serde_json::to_string_pretty(outcome.trace())?);
    Ok(())
}
