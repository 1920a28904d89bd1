use elf_resilience::with_retry;

#[with_retry(max_tries = 3)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
