//! Suggesting an alternative when a resource is pressured, and recording usage.

use elf_resilience_core::{Context, ResourceStatus, ResourceType};
use serde::Serialize;

use super::manager::{ResourceManager, lock, selector_tag};
use super::slot::SlotRead;

/// A resource to use instead of a pressured one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    /// The resource type.
    pub resource_type: ResourceType,
    /// The alternative's name (model, endpoint, database, ...).
    pub name: String,
    /// The model, for API quota alternatives (the seed's `alt["model"]`).
    pub model: Option<String>,
    /// How the alternative stands (`Unknown` when nothing measures it).
    pub status: ResourceStatus,
    /// Its usage percent, when known.
    pub usage_percent: f64,
}

impl ResourceManager {
    /// The first configured alternative to the resource `ctx` names (its model for API quota,
    /// its `endpoint` / `database` / `mcp_server` / `probe` tag otherwise) that is not itself
    /// critical or exhausted.
    ///
    /// ```
    /// use elf_resilience_core::{Context, ResourceType};
    /// use elf_resilience_monitor::ResourceManager;
    ///
    /// let rm = ResourceManager::builder()
    ///     .model_alternatives("gpt-4", ["claude-3-opus", "gpt-3.5-turbo"])
    ///     .build()
    ///     .unwrap();
    /// let alt = rm.get_alternative_resource(ResourceType::ApiQuota, &Context::new().model("gpt-4"));
    /// assert_eq!(alt.unwrap().model.as_deref(), Some("claude-3-opus"));
    /// ```
    pub fn get_alternative_resource(&self, resource: ResourceType, ctx: &Context) -> Option<Alternative> {
        self.alternatives(resource, ctx).into_iter().next()
    }

    /// Every usable configured alternative for `ctx`, best first.
    pub fn alternatives(&self, resource: ResourceType, ctx: &Context) -> Vec<Alternative> {
        let Some(current) = current_name(resource, ctx) else { return Vec::new() };
        let key = (resource, current.to_owned());
        let Some(names) = self.inner.alternatives.get(&key) else { return Vec::new() };
        names
            .iter()
            .map(|name| self.assess(resource, name, ctx))
            .filter(|alt| !alt.status.is_pressured())
            .collect()
    }

    fn assess(&self, resource: ResourceType, name: &str, ctx: &Context) -> Alternative {
        let (status, usage_percent) = match resource {
            ResourceType::ApiQuota => self.model_status(name, ctx),
            _ => self.named_probe_status(resource, name),
        };
        let model = (resource == ResourceType::ApiQuota).then(|| name.to_owned());
        Alternative { resource_type: resource, name: name.to_owned(), model, status, usage_percent }
    }

    fn model_status(&self, model: &str, ctx: &Context) -> (ResourceStatus, f64) {
        let ctx = ctx.clone().model(model);
        self.inner.quota_answer(ResourceType::ApiQuota, &ctx).unwrap_or((ResourceStatus::Unknown, 0.0))
    }

    fn named_probe_status(&self, resource: ResourceType, name: &str) -> (ResourceStatus, f64) {
        let now = self.inner.clock.now_nanos();
        let found = self.inner.entries(resource).find(|(_, e)| e.probe.name() == name);
        match found.map(|(_, e)| e.slot.load(now)) {
            Some(SlotRead::Fresh(status, usage)) => (status, usage),
            _ => (ResourceStatus::Unknown, 0.0),
        }
    }

    /// Records `amount` of usage (tokens, requests, ...) of `resource` for `ctx`'s team and
    /// model: kept in memory for reports, and passed to the quota source for API quota.
    pub fn record_usage(&self, resource: ResourceType, amount: f64, ctx: &Context) {
        if !amount.is_finite() {
            tracing::debug!(%resource, amount, "ignored non-finite usage record");
            return;
        }
        if let (ResourceType::ApiQuota, Some(quota)) = (resource, &self.inner.quota) {
            quota.record(amount, ctx);
        }
        let now = self.inner.clock.now_nanos();
        lock(&self.inner.usage).record(now, resource, amount, ctx);
    }
}

fn current_name(resource: ResourceType, ctx: &Context) -> Option<&str> {
    match resource {
        ResourceType::ApiQuota => ctx.model.as_deref(),
        _ => ctx.get_tag(selector_tag(resource)),
    }
}
