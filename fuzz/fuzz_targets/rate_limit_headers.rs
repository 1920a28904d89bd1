//! Retry-After and the providers' rate-limit headers. The input is a response head: a first
//! line with the arrival time in Unix seconds, then `name: value` lines.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use elf_resilience_fuzz::Message;
use elf_resilience_monitor::{RateLimitSnapshot, parse_go_duration, parse_retry_after, parse_rfc3339};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let message = Message::read(text);
    let now = UNIX_EPOCH + Duration::from_secs(message.start.trim().parse::<u32>().unwrap_or(0).into());
    for &(_, value) in &message.headers {
        let _ = parse_retry_after(value, now);
        let _ = parse_go_duration(value);
        let _ = parse_rfc3339(value).map(|t| t.duration_since(UNIX_EPOCH));
    }
    let snap = RateLimitSnapshot::from_headers(message.headers.iter().copied(), now);
    if let Some(p) = snap.worst_percent() {
        assert!((0.0..=100.0).contains(&p), "worst percent {p} out of 0..=100 for {snap:?}");
    }
});
