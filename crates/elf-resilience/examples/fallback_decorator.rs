//! The seed's `@with_fallback` decorator and a custom strategy order.
//!
//! Run with `cargo run -p elf-resilience --example fallback_decorator`.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use elf_resilience::{
    FallbackProtocol, FixedDelay, InMemoryCache, ResourceStatus, ResourceType, StaticGate, with_fallback,
};

type BoxError = Box<dyn Error + Send + Sync>;

static DB_UP: AtomicBool = AtomicBool::new(true);

// Automatic fallback for API quota: check quota first, switch model, degrade, queue.
#[with_fallback(ApiQuota, switch = model, degrade(max_tokens))]
fn call_llm(prompt: &str, model: &str, max_tokens: u32) -> Result<String, BoxError> {
    Ok(format!("[{model}, {max_tokens} tokens] answer to {prompt:?}"))
}

// Custom strategy order: retry, then the cache, then open the circuit.
#[with_fallback(Database, strategies = [Retry, UseCache, CircuitBreak], cache_key = format!("q:{query}"))]
fn query_database(query: &str) -> Result<Vec<String>, BoxError> {
    if !DB_UP.load(Ordering::SeqCst) {
        return Err("connection refused".into());
    }
    Ok(vec![format!("row for {query}")])
}

fn main() -> Result<(), BoxError> {
    let gate = Arc::new(StaticGate::new());
    let protocol = FallbackProtocol::builder()
        .gate(gate.clone())
        .providers(["gpt-4", "claude", "gpt-3.5"])
        .cache(Arc::new(InMemoryCache::new(1_000)?), Duration::from_secs(300), Duration::from_secs(3_600))
        .retry_backoff(FixedDelay::new().with_max_retries(2).with_delay(Duration::from_millis(5)))
        .build()?;
    FallbackProtocol::set_global(protocol);

    println!("{}", call_llm("summarize Q3", "gpt-4", 2000)?);
    gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
    println!("gpt-4 quota exhausted -> {}", call_llm("summarize Q3", "gpt-4", 2000)?);

    println!("database up   -> {:?}", query_database("SELECT 1")?);
    DB_UP.store(false, Ordering::SeqCst);
    println!("database down -> {:?} (from cache)", query_database("SELECT 1")?);
    match query_database("SELECT 2") {
        Ok(rows) => println!("unexpected rows {rows:?}"),
        Err(e) => println!("database down, nothing cached -> error: {e}"),
    }
    Ok(())
}
