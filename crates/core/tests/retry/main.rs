//! Backoff schedules, retries (blocking and async), retry budgets and observers, timeouts.

mod asynchronous;
mod backoff;
mod blocking;
mod budget;
#[allow(unsafe_code)] // its counting allocator
mod observe;
mod timeout;
