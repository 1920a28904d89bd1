use elf_resilience::with_retry;

#[with_retry(max_retries = 3, backoff = elf_resilience::FixedDelay::new())]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
