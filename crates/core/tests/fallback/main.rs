//! The fallback protocol: each strategy alone and in the chain, sync and async.

mod support;

mod breaker;
mod cache;
mod chain;
mod concurrency;
mod degrade;
mod hooks;
mod queue;
mod retry;
mod shed;
mod switch;
#[cfg(feature = "tower")]
mod tower_layer;
mod worker;
mod worker_delivery;
mod worker_stop;
