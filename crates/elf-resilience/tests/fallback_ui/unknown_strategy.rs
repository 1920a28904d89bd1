#[elf_resilience::with_fallback(Database, strategies = [Retry, UseCash])]
fn f() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

fn main() {}
