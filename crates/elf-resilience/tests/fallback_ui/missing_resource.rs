#[elf_resilience::with_fallback(strategies = [Retry])]
fn f() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

fn main() {}
