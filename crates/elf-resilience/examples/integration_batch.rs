//! Integration pattern 3: memory-intensive batch processing that shrinks its batches under
//! memory pressure and queues the job when memory is exhausted, replayed once memory is back.
//!
//! Run with `cargo run -p elf-resilience --example integration_batch`.

use std::sync::Arc;

use elf_resilience::{
    Context, FallbackProtocol, FallbackRequest, InMemoryQueue, Outcome, QueueWorker, ResourceStatus,
    ResourceType, StaticGate,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    lines: usize,
    batch_size: usize,
}

/// Processes `lines` in batches; returns the number of batches.
fn process_large_file(lines: usize, batch_size: usize) -> Result<usize, String> {
    if batch_size > 4_000 {
        return Err(format!("batch of {batch_size} lines does not fit in memory"));
    }
    Ok(lines.div_ceil(batch_size))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gate = Arc::new(StaticGate::new());
    let queue = Arc::new(InMemoryQueue::new());
    let protocol = FallbackProtocol::builder().gate(gate.clone()).queue(queue.clone()).build()?;
    let job = Job { lines: 100_000, batch_size: 10_000 };

    for status in [ResourceStatus::Critical, ResourceStatus::Exhausted] {
        gate.set(ResourceType::Memory, status, 0.0);
        let req = FallbackRequest::new(ResourceType::Memory)
            .context(Context::new().team("data-team").operation("process_large_file"))
            .queue_as("process_large_file", &job)?;
        let outcome = protocol
            .execute_request_blocking(req, |a| process_large_file(job.lines, a.batch_size(job.batch_size)))?;
        match outcome {
            Outcome::Value { value, served } => {
                println!("memory {status}: {value} batches at degrade level {}", served.degrade_level)
            }
            Outcome::Queued { ticket, .. } => println!("memory {status}: queued as ticket {ticket}"),
        }
    }

    let worker = QueueWorker::new(queue, gate.clone()).register_typed(
        "process_large_file",
        ResourceType::Memory,
        |job: Job, _ctx| async move { process_large_file(job.lines, job.batch_size / 4) },
    );
    println!("replay while exhausted: {:?}", worker.run_once().await?);
    gate.set(ResourceType::Memory, ResourceStatus::Healthy, 40.0);
    println!("replay once healthy:   {:?}", worker.run_once().await?);
    Ok(())
}
