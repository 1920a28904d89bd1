//! Named breakers: get-or-create by name, list them all (the seed's dashboard).

use super::builder::BreakerConfig;
use super::{CircuitBreaker, CircuitBreakerBuilder, CircuitStats, InvalidBreakerConfig};
use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

/// A set of breakers by name.
///
/// Breakers made by [`get_or_create`](Self::get_or_create) use the registry's template
/// configuration under their own name. [`global`](Self::global) is a process-wide registry;
/// owned registries keep tests and tenants apart.
///
/// ```
/// use elf_resilience_core::{CircuitBreaker, CircuitBreakerRegistry};
///
/// let registry = CircuitBreakerRegistry::new(CircuitBreaker::builder().failure_threshold(3))?;
/// let a = registry.get_or_create("OpenAI-API");
/// let again = registry.get_or_create("OpenAI-API");
/// a.trip();
/// assert!(again.state().is_open());
/// registry.get_or_create("Anthropic-API");
/// let names: Vec<String> = registry.stats().into_iter().map(|s| s.name).collect();
/// assert_eq!(names, ["Anthropic-API", "OpenAI-API"]);
/// # Ok::<(), elf_resilience_core::InvalidBreakerConfig>(())
/// ```
#[derive(Debug)]
pub struct CircuitBreakerRegistry {
    template: BreakerConfig,
    breakers: RwLock<HashMap<String, CircuitBreaker>>,
}

impl Default for CircuitBreakerRegistry {
    /// A registry whose breakers use the seed's defaults.
    fn default() -> Self {
        Self::new(CircuitBreakerBuilder::new()).unwrap_or_else(|e| unreachable!("defaults are valid: {e}"))
    }
}

impl CircuitBreakerRegistry {
    /// A registry that creates breakers from `template` (its name is replaced per breaker).
    pub fn new(template: CircuitBreakerBuilder) -> Result<Self, InvalidBreakerConfig> {
        Ok(Self { template: template.into_config()?, breakers: RwLock::default() })
    }

    /// The process-wide registry, with the seed's defaults.
    pub fn global() -> &'static CircuitBreakerRegistry {
        static GLOBAL: OnceLock<CircuitBreakerRegistry> = OnceLock::new();
        GLOBAL.get_or_init(CircuitBreakerRegistry::default)
    }

    /// The breaker called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<CircuitBreaker> {
        self.breakers.read().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
    }

    /// The breaker called `name`, created from the template if absent.
    pub fn get_or_create(&self, name: &str) -> CircuitBreaker {
        if let Some(cb) = self.get(name) {
            return cb;
        }
        let mut map = self.breakers.write().unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry(name.to_owned());
        entry.or_insert_with(|| CircuitBreaker::from_config(self.template.renamed(name))).clone()
    }

    /// The breaker called `name`, created from `builder` (named `name`) if absent. An existing
    /// breaker is returned as is.
    pub fn get_or_create_with(
        &self,
        name: &str,
        builder: CircuitBreakerBuilder,
    ) -> Result<CircuitBreaker, InvalidBreakerConfig> {
        if let Some(cb) = self.get(name) {
            return Ok(cb);
        }
        let made = builder.name(name).build()?;
        Ok(self.insert_if_absent(made))
    }

    /// Adds `breaker` under its name unless one by that name exists; returns the one kept.
    pub fn register(&self, breaker: CircuitBreaker) -> CircuitBreaker {
        self.insert_if_absent(breaker)
    }

    fn insert_if_absent(&self, breaker: CircuitBreaker) -> CircuitBreaker {
        let mut map = self.breakers.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(breaker.name().to_owned()).or_insert(breaker).clone()
    }

    /// Removes the breaker called `name` (clones held elsewhere keep working).
    pub fn remove(&self, name: &str) -> Option<CircuitBreaker> {
        self.breakers.write().unwrap_or_else(PoisonError::into_inner).remove(name)
    }

    /// Every breaker, sorted by name.
    pub fn all(&self) -> Vec<CircuitBreaker> {
        let mut all: Vec<_> =
            self.breakers.read().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// Statistics of every breaker, sorted by name.
    pub fn stats(&self) -> Vec<CircuitStats> {
        self.all().iter().map(CircuitBreaker::stats).collect()
    }

    /// Publishes every breaker's call counters to the `metrics` recorder (call before
    /// rendering a scrape).
    pub fn publish_metrics(&self) {
        self.all().iter().for_each(CircuitBreaker::publish_metrics);
    }

    /// Number of breakers.
    pub fn len(&self) -> usize {
        self.breakers.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// True if there are no breakers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
