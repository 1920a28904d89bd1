#[elf_resilience::with_fallback(Gpu)]
fn f() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

fn main() {}
