//! The seed's best practice "Layer your resilience": breaker outermost, then retry, then
//! fallback; as attributes and as a `Pipeline`.
//!
//! Run with `cargo run -p elf-resilience --example layering`.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use elf_resilience::{
    CircuitBreaker, Context, ExponentialBackoff, FallbackProtocol, FixedDelay, Pipeline, ResourceStatus,
    ResourceType, StaticGate, with_circuit_breaker, with_fallback, with_retry,
};

type BoxError = Box<dyn Error + Send + Sync>;

const QUICK: ExponentialBackoff =
    ExponentialBackoff::builder().with_max_retries(2).with_base_delay(Duration::from_millis(2)).build_const();

static CALLS: AtomicU32 = AtomicU32::new(0);

#[with_circuit_breaker(failure_threshold = 5)] // outermost: prevent cascading failures
#[with_retry(backoff = QUICK)] // middle: transient errors
#[with_fallback(ApiQuota, switch = model)] // innermost: resource exhaustion
async fn critical_operation(model: &str) -> Result<String, BoxError> {
    if CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err("connection reset".into());
    }
    Ok(format!("done by {model}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let gate = Arc::new(StaticGate::new());
    gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Critical, 96.0);
    let protocol = FallbackProtocol::builder()
        .gate(gate)
        .providers(["gpt-4", "claude"])
        .retry_backoff(FixedDelay::new().with_max_retries(1).with_delay(Duration::from_millis(2)))
        .build()?;
    FallbackProtocol::set_global(protocol.clone());
    println!("attributes: {}", critical_operation("gpt-4").await?);

    let pipeline = Pipeline::builder()
        .timeout(Duration::from_secs(5))
        .fallback(protocol, ResourceType::ApiQuota)
        .retry(FixedDelay::new().with_max_retries(2).with_delay(Duration::from_millis(2)))
        .circuit_breaker(CircuitBreaker::new("critical-operation"))
        .build();
    println!("pipeline layers, outermost first: {:?}", pipeline.layer_names());
    let answer = pipeline
        .call(Context::new().model("gpt-4"), |a| async move {
            Ok::<_, String>(format!("done by {}", a.model_or("?")))
        })
        .await?;
    println!("pipeline: {answer}");
    Ok(())
}
