//! The seam between the fallback protocol and whatever measures resources.

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::resource::{Context, ResourceStatus, ResourceType};

/// One answer from a [`ResourceGate`]: how a resource stands for a call, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReading {
    /// The resource's status.
    pub status: ResourceStatus,
    /// How much of the resource is used, in percent (0–100), as the seed's `usage`.
    pub usage_percent: f64,
    /// Why the status is what it is, when there is something to say.
    pub reason: Option<String>,
}

impl GateReading {
    /// A reading with no reason.
    pub fn new(status: ResourceStatus, usage_percent: f64) -> Self {
        Self { status, usage_percent, reason: None }
    }

    /// A healthy reading at 0 % use.
    pub fn healthy() -> Self {
        Self::new(ResourceStatus::Healthy, 0.0)
    }

    /// Adds a reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// Tells the fallback protocol whether a resource may be used and what to use instead.
///
/// `check` is synchronous and cheap: it reads the last known reading and never does I/O on
/// the call path (the resource manager refreshes readings in the background). A gate that
/// cannot read a resource answers [`ResourceStatus::Unknown`] with a reason.
///
/// For API quota, the protocol asks about a specific provider by setting
/// [`Context::model`] on the context it passes.
pub trait ResourceGate: Send + Sync + fmt::Debug {
    /// How `resource` stands for a call with context `ctx`.
    fn check(&self, resource: ResourceType, ctx: &Context) -> GateReading;

    /// How `resource` stands for a call with context `ctx` made with `model` (which may be a
    /// provider the context does not name itself). The default checks `ctx` when it names
    /// `model`, else a copy of it naming `model`; a gate that keys on the model directly
    /// answers without the copy.
    fn check_model(&self, resource: ResourceType, ctx: &Context, model: &str) -> GateReading {
        if ctx.model.as_deref() == Some(model) {
            return self.check(resource, ctx);
        }
        self.check(resource, &ctx.clone().model(model))
    }

    /// Suggested alternative providers or endpoints for `resource`, best first.
    fn alternatives(&self, resource: ResourceType, ctx: &Context) -> Vec<String> {
        let _ = (resource, ctx);
        Vec::new()
    }
}

impl dyn ResourceGate {
    /// How `resource` stands for a call with `ctx` made with `provider`, or as `ctx` names
    /// no provider when there is none.
    pub(crate) fn reading(
        &self,
        resource: ResourceType,
        ctx: &Context,
        provider: Option<&str>,
    ) -> GateReading {
        match provider {
            Some(model) => self.check_model(resource, ctx, model),
            None => self.check(resource, ctx),
        }
    }
}

/// A gate whose readings are set by hand: for tests, demos and fixed deployments.
///
/// Unset resources read healthy at 0 %. A reading set for a (resource, model) pair wins over
/// the resource-wide one when the context names that model. While no reading is set, a check
/// reads one flag and takes no lock.
///
/// ```
/// use elf_resilience_core::{Context, ResourceGate, ResourceStatus, ResourceType, StaticGate};
///
/// let gate = StaticGate::new();
/// gate.set(ResourceType::ApiQuota, ResourceStatus::Warning, 85.0);
/// gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
/// gate.set_alternatives(ResourceType::ApiQuota, ["claude", "gpt-3.5"]);
///
/// let ctx = Context::new().model("gpt-4");
/// assert_eq!(gate.check(ResourceType::ApiQuota, &ctx).status, ResourceStatus::Exhausted);
/// assert_eq!(gate.check(ResourceType::ApiQuota, &Context::new()).status, ResourceStatus::Warning);
/// assert_eq!(gate.alternatives(ResourceType::ApiQuota, &ctx), ["claude", "gpt-3.5"]);
/// ```
#[derive(Debug, Default)]
pub struct StaticGate {
    inner: RwLock<StaticGateState>,
    /// Whether any reading is set: when not, every check reads healthy without the lock.
    any_reading: AtomicBool,
}

#[derive(Debug, Default)]
struct StaticGateState {
    readings: HashMap<ResourceType, GateReading>,
    per_model: HashMap<ResourceType, HashMap<String, GateReading>>,
    alternatives: HashMap<ResourceType, Vec<String>>,
}

impl StaticGate {
    /// A gate reading every resource healthy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the resource-wide reading.
    pub fn set(&self, resource: ResourceType, status: ResourceStatus, usage_percent: f64) {
        self.set_reading(resource, GateReading::new(status, usage_percent));
    }

    /// Sets the resource-wide reading, with its reason.
    pub fn set_reading(&self, resource: ResourceType, reading: GateReading) {
        let mut state = self.write();
        state.readings.insert(resource, reading);
        self.any_reading.store(true, Ordering::Release);
    }

    /// Sets the reading for one model or provider of `resource`.
    pub fn set_for_model(
        &self,
        resource: ResourceType,
        model: impl Into<String>,
        status: ResourceStatus,
        usage_percent: f64,
    ) {
        let reading = GateReading::new(status, usage_percent);
        let mut state = self.write();
        state.per_model.entry(resource).or_default().insert(model.into(), reading);
        self.any_reading.store(true, Ordering::Release);
    }

    /// Sets the suggested alternatives for `resource`.
    pub fn set_alternatives<I, S>(&self, resource: ResourceType, alternatives: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list = alternatives.into_iter().map(Into::into).collect();
        self.write().alternatives.insert(resource, list);
    }

    /// Forgets every reading and alternative.
    pub fn clear(&self) {
        let mut state = self.write();
        *state = StaticGateState::default();
        self.any_reading.store(false, Ordering::Release);
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, StaticGateState> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, StaticGateState> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl StaticGate {
    /// The reading for `resource`, the model's own when one is set for it.
    fn reading(&self, resource: ResourceType, model: Option<&str>) -> GateReading {
        if !self.any_reading.load(Ordering::Acquire) {
            return GateReading::healthy();
        }
        let state = self.read();
        let models = state.per_model.get(&resource);
        let per_model = model.and_then(|m| models.and_then(|by_model| by_model.get(m)));
        per_model.or_else(|| state.readings.get(&resource)).cloned().unwrap_or_else(GateReading::healthy)
    }
}

impl ResourceGate for StaticGate {
    fn check(&self, resource: ResourceType, ctx: &Context) -> GateReading {
        self.reading(resource, ctx.model.as_deref())
    }

    fn check_model(&self, resource: ResourceType, _ctx: &Context, model: &str) -> GateReading {
        self.reading(resource, Some(model))
    }

    fn alternatives(&self, resource: ResourceType, _ctx: &Context) -> Vec<String> {
        self.read().alternatives.get(&resource).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_model_reads_as_a_context_naming_the_model() {
        let gate = StaticGate::new();
        gate.set(ResourceType::ApiQuota, ResourceStatus::Warning, 80.0);
        gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
        let ctx = Context::new().team("search");
        for model in ["gpt-4", "claude"] {
            let named = gate.check(ResourceType::ApiQuota, &ctx.clone().model(model));
            assert_eq!(gate.check_model(ResourceType::ApiQuota, &ctx, model), named);
        }
        assert_eq!(gate.check_model(ResourceType::ApiQuota, &ctx, "gpt-4").status, ResourceStatus::Exhausted);
        assert_eq!(gate.check_model(ResourceType::ApiQuota, &ctx, "claude").status, ResourceStatus::Warning);
    }

    #[test]
    fn unset_resources_read_healthy_and_clear_forgets() {
        let gate = StaticGate::new();
        assert_eq!(gate.check(ResourceType::Cpu, &Context::new()), GateReading::healthy());
        gate.set(ResourceType::Cpu, ResourceStatus::Critical, 95.0);
        assert_eq!(gate.check(ResourceType::Cpu, &Context::new()).status, ResourceStatus::Critical);
        gate.clear();
        assert_eq!(gate.check(ResourceType::Cpu, &Context::new()).status, ResourceStatus::Healthy);
    }

    #[test]
    fn a_model_reading_is_seen_only_by_that_model_and_survives_until_clear() {
        let gate = StaticGate::new();
        let gpt = Context::new().model("gpt-4");
        gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
        assert_eq!(gate.check(ResourceType::ApiQuota, &gpt).status, ResourceStatus::Exhausted);
        assert_eq!(gate.check(ResourceType::Cpu, &gpt), GateReading::healthy(), "other resources");
        let claude = Context::new().model("claude");
        assert_eq!(gate.check(ResourceType::ApiQuota, &claude), GateReading::healthy(), "other models");
        gate.set(ResourceType::ApiQuota, ResourceStatus::Warning, 80.0);
        assert_eq!(gate.check(ResourceType::ApiQuota, &claude).usage_percent, 80.0);
        assert_eq!(gate.check(ResourceType::ApiQuota, &gpt).status, ResourceStatus::Exhausted);
        gate.clear();
        assert_eq!(gate.check(ResourceType::ApiQuota, &gpt), GateReading::healthy());
    }
}
