//! The seed's section 3, "Circuit Breaker": a breaker in front of a flaky LLM API, with a
//! fallback service while it is open, statistics, and manual control.
//!
//! Run with `cargo run -p elf-resilience --example circuit_breaker`.

use elf_resilience::{CircuitBreaker, CircuitBreakerError, InvalidBreakerConfig, ManualClock};
use std::cell::Cell;
use std::time::Duration;

/// The errors of the (simulated) provider API.
#[derive(Debug, Clone, PartialEq)]
enum ApiError {
    /// The provider is failing: counts toward opening the breaker.
    Unavailable,
    /// The request itself was bad: not the provider's fault, not counted.
    InvalidPrompt,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

/// A provider that fails while `down` is set.
struct Api {
    down: Cell<bool>,
}

impl Api {
    fn chat_completion(&self, prompt: &str) -> Result<String, ApiError> {
        match (prompt.is_empty(), self.down.get()) {
            (true, _) => Err(ApiError::InvalidPrompt),
            (false, true) => Err(ApiError::Unavailable),
            (false, false) => Ok(format!("answer to {prompt:?}")),
        }
    }
}

fn fallback_service(prompt: &str) -> String {
    format!("cached answer to {prompt:?}")
}

fn ask(cb: &CircuitBreaker, api: &Api, prompt: &str) -> String {
    match cb.call(|| api.chat_completion(prompt)) {
        Ok(answer) => answer,
        Err(CircuitBreakerError::Open(open)) => {
            println!("  {open} -> fallback");
            fallback_service(prompt)
        }
        Err(e) => format!("error: {e}"),
    }
}

fn main() -> Result<(), InvalidBreakerConfig> {
    // A manual clock so the 60 s recovery takes no real time; use the default clock in production.
    let clock = ManualClock::new();
    let cb = CircuitBreaker::builder()
        .name("OpenAI-API")
        .failure_threshold(5) // open after 5 failures
        .recovery_timeout(Duration::from_secs(60)) // try recovery after 60 seconds
        .record_error_if(|e: &ApiError| *e == ApiError::Unavailable) // expected_exception
        .on_state_change(|from, to| println!("  [transition] {from} -> {to}"))
        .clock(clock.shared())
        .build()?;
    let api = Api { down: Cell::new(false) };

    println!("healthy provider:");
    println!("  {}", ask(&cb, &api, "hello"));
    println!("  {}", ask(&cb, &api, "")); // a bad request does not count

    println!("provider goes down:");
    api.down.set(true);
    for i in 0..7 {
        println!("  call {i}: {}", ask(&cb, &api, "status?"));
    }

    println!("60 s later, provider is back: the probe call closes the breaker");
    clock.advance(Duration::from_secs(60));
    api.down.set(false);
    println!("  {}", ask(&cb, &api, "status?"));

    let stats = cb.stats();
    println!("State: {}", stats.state);
    println!("Success rate: {:.1}%", stats.success_rate);
    println!("Rejected calls: {}", stats.rejected_calls);

    println!("manual control:");
    cb.trip(); // manually open the circuit
    println!("  after trip: {}", cb.state());
    cb.reset(); // manually close the circuit
    println!("  after reset: {}", cb.state());
    cb.open_for(Duration::from_secs(30)); // e.g. the provider sent Retry-After: 30
    println!("  after open_for(30 s): {}", ask(&cb, &api, "hello"));
    Ok(())
}
