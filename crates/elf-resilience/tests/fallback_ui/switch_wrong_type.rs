#[elf_resilience::with_fallback(ApiQuota, switch = model)]
fn f(model: u32) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(model)
}

fn main() {}
