use elf_resilience::{ExponentialBackoff, Retry};

fn main() {
    // A builder is not a schedule: `Retry::new` takes only what `build()` checked.
    let retry = Retry::new(ExponentialBackoff::builder().with_multiplier(0.5));
    let _ = retry.call(|| Ok::<(), ()>(()));
}
