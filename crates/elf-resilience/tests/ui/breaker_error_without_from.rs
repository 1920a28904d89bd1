use elf_resilience::with_circuit_breaker;

#[derive(Debug)]
struct ApiError;

#[with_circuit_breaker(failure_threshold = 3)]
fn call_external_api() -> Result<(), ApiError> {
    Err(ApiError)
}

fn main() {}
