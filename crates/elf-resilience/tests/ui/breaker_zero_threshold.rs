use elf_resilience::with_circuit_breaker;

#[with_circuit_breaker(failure_threshold = 0)]
fn call_external_api() -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}

fn main() {}
