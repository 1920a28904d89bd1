use elf_resilience::with_retry;

#[with_retry(max_retries = "three")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
