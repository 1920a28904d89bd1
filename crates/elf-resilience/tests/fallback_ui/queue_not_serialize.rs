struct Job {
    rows: u32,
}

#[elf_resilience::with_fallback(Memory, queue = "batch-jobs")]
fn process(name: &str, job: Job) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(name.len() as u32 + job.rows)
}

fn main() {}
