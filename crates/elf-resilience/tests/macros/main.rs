//! The attribute macros on sync and async functions and methods, alone and stacked, and
//! `#[with_fallback]` through the global protocol.

mod attributes;
mod fallback;
mod prelude;
