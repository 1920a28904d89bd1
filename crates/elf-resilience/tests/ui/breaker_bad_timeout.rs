use elf_resilience::with_circuit_breaker;

#[with_circuit_breaker(failure_threshold = 3, recovery_timeout = "thirty seconds")]
fn call_external_api() -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}

fn main() {}
