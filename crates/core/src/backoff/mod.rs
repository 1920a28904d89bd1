//! Backoff schedules: how long to wait before each retry.
//!
//! Every backoff is an [`Iterator<Item = Duration>`](Iterator): the n-th item is the delay
//! before the n-th retry, and the iterator ends when the retries run out. `new()` gives a
//! schedule with its documented `# Default`; other delays and factors go through `builder()`,
//! whose `with_*` setters make a builder (not a schedule, so [`Retry`](crate::Retry) does not
//! take it) until `build()` checks them, naming the setting at fault in an [`InvalidBackoff`].
//! In a `const`, `build_const()` makes a bad value a compile error. The retry limit and jitter
//! (`with_max_retries`, `without_max_retries`, `with_jitter`, `with_seed`) cannot make a schedule
//! invalid, so schedules have those setters too; [`FixedDelay`] has no invalid settings at all
//! and no builder.
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
//! let delays = ExponentialBackoff::new().with_jitter(Jitter::Full).with_seed(42);
//! for (n, d) in delays.enumerate() {
//!     assert!(d <= Duration::from_secs(1 << n));
//! }
//!
//! const QUICK: ExponentialBackoff =
//!     ExponentialBackoff::builder().with_base_delay(Duration::from_millis(10)).with_max_retries(5).build_const();
//! assert_eq!(QUICK.delay_at(2), Duration::from_millis(40));
//!
//! let shrinking = ExponentialBackoff::builder().with_multiplier(0.5).build();
//! assert_eq!(shrinking.unwrap_err().to_string(), "multiplier must be at least 1, got 0.5");
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

pub use adaptive::{AdaptiveBackoff, AdaptiveBackoffBuilder};
pub use error::InvalidBackoff;
pub use exponential::{ExponentialBackoff, ExponentialBackoffBuilder};
pub use fibonacci::{FibonacciBackoff, FibonacciBackoffBuilder};
pub use fixed::FixedDelay;
pub use jitter::Jitter;
pub use linear::{LinearBackoff, LinearBackoffBuilder};
