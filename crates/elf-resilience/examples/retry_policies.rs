//! The seed's "Retry Policies" section: a simple retry, a custom exponential policy, and an
//! adaptive backoff that learns.
//!
//! Run with `cargo run -p elf-resilience --example retry_policies`. Async waits run on tokio's
//! paused clock and the blocking example uses millisecond delays, so it finishes at once.

use std::cell::Cell;
use std::time::Duration;

use elf_resilience::{AdaptiveBackoff, ExponentialBackoff, Jitter, Retry, with_retry};

/// A tiny deterministic "random" source for the demo (no dependency needed).
fn coin(state: &Cell<u64>) -> f64 {
    let next = state.get().wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    state.set(next);
    (next >> 11) as f64 / (1u64 << 53) as f64
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(7) };
}

/// The seed's default schedule (1 s, 2 s, 4 s) scaled down to milliseconds for the demo.
const DEMO: ExponentialBackoff =
    ExponentialBackoff::builder().with_max_retries(3).with_base_delay(Duration::from_millis(1)).build_const();

// Simple retry with exponential backoff: `@with_retry(max_retries=3)`.
#[with_retry(backoff = DEMO)]
fn flaky_operation() -> Result<&'static str, String> {
    if RNG.with(coin) < 0.7 {
        println!("  flaky_operation: Random failure");
        return Err("Random failure".into());
    }
    Ok("Success")
}

// Custom backoff policy: start at 0.5 s, triple each time, cap at 30 s, five retries, jitter.
const POLICY: ExponentialBackoff = ExponentialBackoff::builder()
    .with_max_retries(5)
    .with_base_delay(Duration::from_millis(500))
    .with_multiplier(3.0)
    .with_max_delay(Duration::from_secs(30))
    .with_jitter(Jitter::Equal)
    .build_const(); // checked when this compiles: a multiplier of 0.5 would be an error here

thread_local! {
    static API_CALLS: Cell<u32> = const { Cell::new(0) };
}

#[with_retry(backoff = POLICY)]
async fn api_call() -> Result<String, String> {
    let n = API_CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if n < 4 { Err(format!("external API busy (call {n})")) } else { Ok(format!("fetched on call {n}")) }
}

fn simple_retry() {
    println!("1. Simple retry with exponential backoff");
    match flaky_operation() {
        Ok(v) => println!("  -> {v}"),
        Err(e) => println!("  -> gave up: {e}"),
    }
}

fn custom_policy() {
    println!("\n2. Custom backoff policy");
    let plain: Vec<f64> = POLICY.with_jitter(Jitter::None).map(|d| d.as_secs_f64()).collect();
    println!("  schedule without jitter: {plain:?} s");
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build();
    let rt = rt.expect("a current-thread runtime");
    rt.block_on(async {
        let start = tokio::time::Instant::now();
        let reply = api_call().await;
        println!(
            "  api_call -> {reply:?} after {:.2} s of (paused) tokio time",
            start.elapsed().as_secs_f64()
        );
    });
}

fn adaptive() {
    println!("\n3. Adaptive backoff that learns");
    let adaptive = AdaptiveBackoff::builder()
        .with_initial_delay(Duration::from_secs(1))
        .with_success_reduction(0.5) // halve the delay on success
        .with_failure_increase(2.0) // double it on failure
        .build()
        .expect("valid adaptive settings");
    let retry = Retry::new(adaptive.clone().with_max_retries(1)).sleeper(|d: Duration| {
        println!("    (would wait {:.3} s; the demo waits 1 ms)", d.as_secs_f64());
        std::thread::sleep(Duration::from_millis(1));
    });
    for i in 0..10 {
        let result = retry.call(|| if RNG.with(coin) < 0.4 { Err("api error") } else { Ok(i) });
        match result {
            Ok(_) => adaptive.record_success(),  // reduces future delays
            Err(_) => adaptive.record_failure(), // increases future delays
        }
        println!(
            "  call {i}: {:<8} learned delay now {:.3} s",
            ok(&result),
            adaptive.current_delay().as_secs_f64()
        );
    }
}

fn ok<T, E>(r: &Result<T, E>) -> &'static str {
    if r.is_ok() { "ok" } else { "failed" }
}

fn main() {
    simple_retry();
    custom_policy();
    adaptive();
    println!("\nThe shorthand: {:?}", Retry::with_max_retries(3).backoff().clone().collect::<Vec<_>>());
}
