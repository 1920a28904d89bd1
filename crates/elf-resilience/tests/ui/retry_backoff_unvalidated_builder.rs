use elf_resilience::{ExponentialBackoff, with_retry};

// A builder is not a schedule: it must be built (and checked) first.
#[with_retry(backoff = ExponentialBackoff::builder().with_multiplier(0.5))]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
