//! `Config::parse` on any text: an error (with its file:line:col message), never a panic.
#![no_main]

use std::path::Path;

use elf_resilience_server::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match Config::parse(text, Path::new("fuzz.toml")) {
        Ok(config) => {
            // What the server derives from a good config must not panic either.
            let _ = config.server.bind();
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.is_empty(), "an empty error message for {text:?}");
        }
    }
});
