#[elf_resilience::with_fallback(ApiQuota, switch = model)]
fn f(prompt: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    Ok(prompt.to_owned())
}

fn main() {}
