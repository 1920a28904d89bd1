use elf_resilience::with_retry;

#[with_retry(backoff = 5)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
