//! Async hooks on fallback events: the seed's `add_stage_hook`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::strategy::FallbackStrategy;
use crate::resource::{Context, ResourceType};

/// The moments a hook can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FallbackStage {
    /// The operation is about to be called.
    AttemptStarted,
    /// The protocol moved on to another strategy.
    StrategyChanged,
    /// A value or ticket was produced.
    Served,
    /// The execution failed: strategies exhausted, shed or breaker open.
    Exhausted,
}

/// What a hook receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FallbackEvent {
    /// Which moment this is.
    pub stage: FallbackStage,
    /// The resource of the call.
    pub resource: ResourceType,
    /// The call's context.
    pub context: Context,
    /// The strategy at work (`None` for the primary call).
    pub strategy: Option<FallbackStrategy>,
    /// The attempt number so far.
    pub attempt: u32,
    /// The provider in use.
    pub provider: Option<String>,
    /// Detail: the error for `Exhausted`, the previous strategy for `StrategyChanged`.
    pub detail: Option<String>,
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
type HookFn = Arc<dyn Fn(FallbackEvent) -> BoxFuture + Send + Sync>;

/// The hooks of a protocol, by stage. Cloning shares them.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    hooks: Vec<(Option<FallbackStage>, HookFn)>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks").field("count", &self.hooks.len()).finish()
    }
}

impl Hooks {
    pub(crate) fn add<F, Fut>(&mut self, stage: Option<FallbackStage>, hook: F)
    where
        F: Fn(FallbackEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let boxed: HookFn = Arc::new(move |ev| Box::pin(hook(ev)));
        self.hooks.push((stage, boxed));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// Runs, in registration order, every hook watching `event.stage`.
    pub(crate) async fn fire(&self, event: FallbackEvent) {
        for (stage, hook) in &self.hooks {
            if stage.is_none_or(|s| s == event.stage) {
                hook(event.clone()).await;
            }
        }
    }
}
