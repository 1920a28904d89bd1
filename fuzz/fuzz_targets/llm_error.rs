//! An LLM provider's error response classified, whatever it holds. The input is the response
//! as text: the status code on the first line, header lines, a blank line, the body.
#![no_main]

use std::time::UNIX_EPOCH;

use elf_resilience_fuzz::Message;
use elf_resilience_monitor::{LlmErrorKind, RateLimitSnapshot};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let message = Message::read(text);
    let status = message.start.trim().parse().unwrap_or(500);
    let snap = RateLimitSnapshot::from_headers(message.headers.iter().copied(), UNIX_EPOCH);
    let kind = LlmErrorKind::classify(status, &snap, message.body);
    let _ = format!("{kind:?}");
});
