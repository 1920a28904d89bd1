//! Builder for [`Bulkhead`].

use super::Bulkhead;
use crate::clock::{SharedClock, SystemClock};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Bulkhead`]. Every setting is valid by construction.
///
/// # Default
///
/// Name `"bulkhead"`, no waiting (a full bulkhead sheds at once), the system clock.
#[derive(Debug, Clone)]
#[must_use]
pub struct BulkheadBuilder {
    pub(super) max_concurrent: NonZeroUsize,
    pub(super) max_wait: Duration,
    pub(super) name: Arc<str>,
    pub(super) clock: SharedClock,
}

impl BulkheadBuilder {
    pub(super) fn new(max_concurrent: NonZeroUsize) -> Self {
        Self {
            max_concurrent,
            max_wait: Duration::ZERO,
            name: Arc::from("bulkhead"),
            clock: SystemClock::shared(),
        }
    }

    /// How long a call may wait for a slot before it is refused. Zero sheds at once.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The name used in logs and metrics.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The clock measuring blocking waits.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The bulkhead.
    pub fn build(self) -> Bulkhead {
        Bulkhead::from_builder(self)
    }
}
