use elf_resilience::{ExponentialBackoff, with_retry};

// A multiplier below 1 would shrink the delays: in a const, the check stops compilation.
const SHRINKING: ExponentialBackoff = ExponentialBackoff::builder().with_multiplier(0.5).build_const();

#[with_retry(backoff = SHRINKING)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
