//! `#[with_fallback(.., queue = "..")]`: a batch job queued while memory is exhausted, then
//! replayed by a `QueueWorker` through the handler registered under the same name.
//!
//! Run with `cargo run -p elf-resilience --example fallback_queue`.

use std::error::Error;
use std::sync::Arc;

use elf_resilience::{
    FallbackProtocol, FallbackRejection, InMemoryQueue, QueueWorker, ResourceStatus, ResourceType,
    StaticGate, with_fallback,
};
use serde::Deserialize;

type BoxError = Box<dyn Error + Send + Sync>;

// Memory's default order: degrade the batch, then queue the job; the arguments are the payload.
#[with_fallback(Memory, degrade(batch_size), queue = "batch-jobs")]
fn process_batch(job: &str, rows: usize, batch_size: usize) -> Result<String, BoxError> {
    Ok(format!("{job}: {rows} rows in {} batches of {batch_size}", rows.div_ceil(batch_size)))
}

/// The arguments of `process_batch`, as the replay handler reads them from the queue.
#[derive(Deserialize)]
struct ProcessBatch {
    job: String,
    rows: usize,
    batch_size: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let gate = Arc::new(StaticGate::new());
    let queue = Arc::new(InMemoryQueue::new());
    let protocol = FallbackProtocol::builder().gate(gate.clone()).queue(queue.clone()).build()?;
    FallbackProtocol::set_global(protocol);

    println!("memory healthy   -> {}", process_batch("nightly-report", 10_000, 1_000)?);
    gate.set(ResourceType::Memory, ResourceStatus::Critical, 92.0);
    println!("memory critical  -> {}", process_batch("nightly-report", 10_000, 1_000)?);

    gate.set(ResourceType::Memory, ResourceStatus::Exhausted, 99.0);
    let err = process_batch("nightly-report", 10_000, 1_000).unwrap_err();
    let Some(ticket) = err.downcast_ref::<FallbackRejection>().and_then(|r| r.ticket.clone()) else {
        return Err(err);
    };
    println!("memory exhausted -> {err}");

    let worker = QueueWorker::new(queue, gate.clone()).register_typed(
        "batch-jobs",
        ResourceType::Memory,
        |a: ProcessBatch, _ctx| async move {
            process_batch(&a.job, a.rows, a.batch_size).map_err(|e| e.to_string())
        },
    );
    println!("replay while exhausted: {:?}", worker.run_once().await?);
    gate.set(ResourceType::Memory, ResourceStatus::Healthy, 40.0);
    println!("replay once healthy:    {:?}", worker.run_once().await?);
    println!("ticket {ticket} -> {:?}", worker.wait_for(&ticket).await?);
    Ok(())
}
