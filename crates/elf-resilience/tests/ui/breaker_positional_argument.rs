use elf_resilience::with_circuit_breaker;

#[with_circuit_breaker(5)]
fn call_external_api() -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}

fn main() {}
