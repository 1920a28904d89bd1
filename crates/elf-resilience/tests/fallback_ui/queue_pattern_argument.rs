#[elf_resilience::with_fallback(Memory, queue = "batch-jobs")]
fn process((from, to): (u32, u32)) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(to - from)
}

fn main() {}
