//! Backoff schedules: how long to wait before each retry.
//!
//! Every backoff is an [`Iterator<Item = Duration>`](Iterator): the n-th item is the delay
//! before the n-th retry, and the iterator ends when the retries run out. Each is built with
//! `new()` (its documented `# Default`), `with_*` setters, and `build()`, which rejects values
//! that make no sense with an [`InvalidBackoff`] instead of misbehaving later.
//!
//! | backoff                | delays                        |
//! |------------------------|-------------------------------|
//! | [`ExponentialBackoff`] | 1 s, 2 s, 4 s, 8 s…           |
//! | [`LinearBackoff`]      | 1 s, 2 s, 3 s, 4 s…           |
//! | [`FixedDelay`]         | 1 s, 1 s, 1 s…                |
//! | [`FibonacciBackoff`]   | 1 s, 1 s, 2 s, 3 s, 5 s…      |
//! | [`AdaptiveBackoff`]    | learned from successes/failures |
//!
//! [`Jitter`] randomises the fixed schedules; `with_seed` makes the randomness repeatable.
//!
//! ```
//! use elf_resilience_core::{ExponentialBackoff, Jitter};
//! use std::time::Duration;
//!
//! let delays = ExponentialBackoff::new().with_jitter(Jitter::Full).with_seed(42).build()?;
//! for (n, d) in delays.enumerate() {
//!     assert!(d <= Duration::from_secs(1 << n));
//! }
//! # Ok::<(), elf_resilience_core::InvalidBackoff>(())
//! ```

mod adaptive;
mod error;
mod exponential;
mod fibonacci;
mod fixed;
mod jitter;
mod linear;
mod rng;
mod schedule;

pub use adaptive::AdaptiveBackoff;
pub use error::InvalidBackoff;
pub use exponential::ExponentialBackoff;
pub use fibonacci::FibonacciBackoff;
pub use fixed::FixedDelay;
pub use jitter::Jitter;
pub use linear::LinearBackoff;
