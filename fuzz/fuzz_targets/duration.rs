//! `parse_duration` on any text; what it reads, `format_duration` writes back to the same value.
#![no_main]

use elf_resilience_server::config::{format_duration, parse_duration};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(d) = parse_duration(text) {
        let shown = format_duration(d);
        assert_eq!(parse_duration(&shown), Some(d), "{text:?} read as {d:?}, written as {shown:?}");
    }
});
