//! What a [`FallbackProtocol`](super::FallbackProtocol) holds: its settings and in-flight count.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::attempt::DegradeLevel;
use super::gate::ResourceGate;
use super::hooks::Hooks;
use super::queue::RequestQueue;
use super::strategy::FallbackStrategy;
use crate::cache::ResponseCache;
use crate::circuit_breaker::CircuitBreakerRegistry;
use crate::clock::SharedClock;
use crate::resource::ResourceType;

pub(crate) type BackoffFactory = Arc<dyn Fn() -> Box<dyn Iterator<Item = Duration> + Send> + Send + Sync>;
pub(crate) type BlockingSleep = Arc<dyn Fn(Duration) + Send + Sync>;

pub(crate) struct Inner {
    pub(crate) gate: Arc<dyn ResourceGate>,
    pub(crate) providers: Vec<String>,
    pub(crate) levels: Vec<DegradeLevel>,
    pub(crate) queue: Option<Arc<dyn RequestQueue>>,
    pub(crate) queue_max_attempts: u32,
    pub(crate) cache: Option<Arc<dyn ResponseCache>>,
    pub(crate) cache_ttl: Duration,
    pub(crate) max_staleness: Duration,
    pub(crate) breakers: Option<Arc<CircuitBreakerRegistry>>,
    pub(crate) backoff: BackoffFactory,
    pub(crate) hooks: Hooks,
    pub(crate) clock: SharedClock,
    pub(crate) wall_anchor: SystemTime,
    pub(crate) orders: HashMap<ResourceType, Vec<FallbackStrategy>>,
    pub(crate) shed_limit: Option<usize>,
    pub(crate) inflight: crate::stripes::Gauge,
    pub(crate) blocking_sleep: BlockingSleep,
}

impl Inner {
    /// Wall time derived from the monotonic clock, so TTLs follow paused or manual time.
    pub(crate) fn wall_now(&self) -> SystemTime {
        self.wall_anchor + self.clock.now()
    }
}
