#[elf_resilience::with_fallback(Memory, queue_name = "batch-jobs")]
fn process(rows: u32) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(rows)
}

fn main() {}
