//! The rate limiter and the bulkhead.

mod bulkhead;
mod rate_limit;
mod rate_limit_metrics;
mod rate_limit_props;
