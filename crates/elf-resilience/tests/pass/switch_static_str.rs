//! `switch = model` on a `model: &'static str` argument: the body may keep the name past the
//! call, and the async function's future can be spawned.

use elf_resilience::with_fallback;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[with_fallback(ApiQuota, switch = model)]
fn pick(model: &'static str) -> Result<&'static str, BoxError> {
    Ok(model)
}

#[with_fallback(ApiQuota, switch = model, degrade(max_tokens))]
async fn chat(prompt: String, model: &'static str, max_tokens: u32) -> Result<String, BoxError> {
    let kept: &'static str = model;
    Ok(format!("{kept}/{max_tokens}: {prompt}"))
}

fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}

fn main() {
    let _ = pick;
    spawnable(chat("hi".into(), "gpt-4", 100));
}
