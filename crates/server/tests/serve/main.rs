//! The server's parts in one process: the HTTP surface through `oneshot`, the dashboard in
//! headless Chromium, shared breakers, the queue worker's replays, cache eviction, and Redis
//! storage (feature `redis`).

mod bodies;
mod browser;
mod dashboard;
mod eviction;
mod hosts;
mod queue_pages;
#[cfg(feature = "redis")]
mod redis;
mod replay;
mod router;
mod shared_breakers;
mod slow_clients;
mod stalled_stores;
mod stopping;
mod support;
mod wire;
