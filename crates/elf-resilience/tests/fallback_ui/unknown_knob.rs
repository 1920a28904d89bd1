#[elf_resilience::with_fallback(Memory, degrade(batch, max_tokens))]
fn f(batch: usize) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    Ok(batch)
}

fn main() {}
