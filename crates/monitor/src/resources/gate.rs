//! The resource manager as the fallback protocol's [`ResourceGate`].

use elf_resilience_core::{Context, GateReading, ResourceGate, ResourceType};

use super::manager::ResourceManager;

impl ResourceGate for ResourceManager {
    fn check(&self, resource: ResourceType, ctx: &Context) -> GateReading {
        let reading = self.reading(resource, ctx);
        let gate = GateReading::new(reading.status, reading.usage_percent);
        match reading.reason {
            Some(reason) => gate.with_reason(reason),
            None => gate,
        }
    }

    fn alternatives(&self, resource: ResourceType, ctx: &Context) -> Vec<String> {
        ResourceManager::alternatives(self, resource, ctx).into_iter().map(|a| a.name).collect()
    }
}
