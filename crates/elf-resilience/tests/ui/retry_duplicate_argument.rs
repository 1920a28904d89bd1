use elf_resilience::with_retry;

#[with_retry(max_retries = 3, max_retries = 4)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
