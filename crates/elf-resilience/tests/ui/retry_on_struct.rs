use elf_resilience::with_retry;

#[with_retry]
struct Client;

fn main() {}
