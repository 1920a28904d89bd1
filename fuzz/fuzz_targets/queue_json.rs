//! A queued request as JSON read back from storage (the Redis queue keeps each request as one
//! JSON text): any text decodes or is refused, and what decodes writes back to the same request.
#![no_main]

use elf_resilience_core::QueuedRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(req) = serde_json::from_str::<QueuedRequest>(text) else { return };
    let written = serde_json::to_string(&req).expect("a decoded request encodes");
    let again: QueuedRequest = serde_json::from_str(&written).expect("an encoded request decodes");
    assert_eq!(again, req, "{text:?} changed through a round trip: {written}");
});
