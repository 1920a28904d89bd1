use elf_resilience::with_retry;

#[with_retry(max_retries = 3)]
fn fetch() {}

fn main() {}
