//! Named breakers: get-or-create by name, list them all (the seed's dashboard), bounded.

use super::builder::BreakerConfig;
use super::eviction::Bounded;
use super::settings::warn_if_different;
use super::{CircuitBreaker, CircuitBreakerBuilder, CircuitStats, InvalidBreakerConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many breakers a registry holds before it drops idle ones, unless told otherwise.
pub const DEFAULT_MAX_BREAKERS: usize = 10_000;

/// A set of breakers by name, bounded.
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
///
/// # Bound
///
/// A registry holds at most [`max_breakers`](CircuitBreakerRegistryBuilder::max_breakers)
/// breakers ([`DEFAULT_MAX_BREAKERS`] unless set), so that breakers made per call (the
/// fallback protocol's `"{resource}:{operation}"` breakers) cannot grow without end. When an
/// insert takes it past the bound, it drops the least recently used (by `get`,
/// `get_or_create`) *idle* breakers, those that are closed and held by nobody else, until it
/// is an eighth below the bound. A dropped breaker loses only its closed-state counts (and
/// the failures it counted towards opening); asked for again, it comes back fresh from the
/// template. An open, half-open, forced-open or disabled breaker, or one that a caller or a
/// call in flight still holds, is never dropped: with too few idle breakers the registry
/// stays above its bound until some are idle.
///
/// ```
/// use elf_resilience_core::{CircuitBreaker, CircuitBreakerRegistry};
///
/// let registry = CircuitBreakerRegistry::builder()
///     .template(CircuitBreaker::builder().failure_threshold(3))
///     .max_breakers(8)
///     .build()?;
/// registry.get_or_create("search:suggest").trip(); // open: kept
/// for i in 0..100 {
///     let cb = registry.get_or_create(&format!("search:query-{i}"));
///     let _ = cb.call(|| Ok::<_, ()>(()));
/// }
/// assert!(registry.len() <= 8);
/// assert!(registry.get("search:suggest").unwrap().state().is_open());
/// assert!(registry.get("search:query-99").is_some(), "the most recent are kept");
/// assert!(registry.get("search:query-0").is_none(), "the least recently used went");
/// # Ok::<(), elf_resilience_core::InvalidBreakerConfig>(())
/// ```
#[derive(Debug)]
pub struct CircuitBreakerRegistry {
    template: BreakerConfig,
    breakers: RwLock<Bounded>,
    /// Counts uses, to order breakers by last use.
    tick: AtomicU64,
}

impl Default for CircuitBreakerRegistry {
    /// A registry whose breakers use the seed's defaults, bounded by [`DEFAULT_MAX_BREAKERS`].
    fn default() -> Self {
        Self::new(CircuitBreakerBuilder::new()).unwrap_or_else(|e| unreachable!("defaults are valid: {e}"))
    }
}

impl CircuitBreakerRegistry {
    /// A registry that creates breakers from `template` (its name is replaced per breaker),
    /// bounded by [`DEFAULT_MAX_BREAKERS`].
    pub fn new(template: CircuitBreakerBuilder) -> Result<Self, InvalidBreakerConfig> {
        Self::builder().template(template).build()
    }

    /// A builder, for a registry with another bound.
    pub fn builder() -> CircuitBreakerRegistryBuilder {
        CircuitBreakerRegistryBuilder {
            template: CircuitBreakerBuilder::new(),
            max_breakers: DEFAULT_MAX_BREAKERS,
        }
    }

    /// The process-wide registry, with the seed's defaults.
    pub fn global() -> &'static CircuitBreakerRegistry {
        static GLOBAL: OnceLock<CircuitBreakerRegistry> = OnceLock::new();
        GLOBAL.get_or_init(CircuitBreakerRegistry::default)
    }

    fn read(&self) -> RwLockReadGuard<'_, Bounded> {
        self.breakers.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Bounded> {
        self.breakers.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn tick(&self) -> u64 {
        self.tick.fetch_add(1, Ordering::Relaxed)
    }

    /// The breaker called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<CircuitBreaker> {
        self.read().get(name, self.tick())
    }

    /// The breaker called `name`, created from the template if absent.
    pub fn get_or_create(&self, name: &str) -> CircuitBreaker {
        if let Some(cb) = self.get(name) {
            return cb;
        }
        let make = || CircuitBreaker::from_config(self.template.renamed(name));
        self.write().get_or_insert(name, self.tick(), make)
    }

    /// The breaker called `name`, created from `builder` (named `name`) if absent; `builder`
    /// is validated either way.
    ///
    /// An existing breaker is returned as is. If its settings (thresholds, timeouts, windows;
    /// not the clock, error filter or listeners) differ from `builder`'s, a `tracing` warning
    /// names the breaker and describes both: the first registration under a name wins.
    ///
    /// ```
    /// use elf_resilience_core::{CircuitBreaker, CircuitBreakerRegistry};
    ///
    /// let registry = CircuitBreakerRegistry::default();
    /// let first = registry.get_or_create_with("search", CircuitBreaker::builder().failure_threshold(2))?;
    /// // Logs "a circuit breaker by this name exists with other settings" and keeps the first.
    /// let second = registry.get_or_create_with("search", CircuitBreaker::builder().failure_threshold(9))?;
    /// second.trip();
    /// assert!(first.state().is_open());
    /// # Ok::<(), elf_resilience_core::InvalidBreakerConfig>(())
    /// ```
    pub fn get_or_create_with(
        &self,
        name: &str,
        builder: CircuitBreakerBuilder,
    ) -> Result<CircuitBreaker, InvalidBreakerConfig> {
        let config = builder.name(name).into_config()?;
        if let Some(cb) = self.get(name) {
            warn_if_different(&cb.inner.cfg, &config);
            return Ok(cb);
        }
        Ok(self.insert_if_absent(CircuitBreaker::from_config(config)))
    }

    /// Adds `breaker` under its name unless one by that name exists; returns the one kept. As
    /// with [`get_or_create_with`](Self::get_or_create_with), keeping an existing breaker whose
    /// settings differ from `breaker`'s logs a warning.
    pub fn register(&self, breaker: CircuitBreaker) -> CircuitBreaker {
        self.insert_if_absent(breaker)
    }

    fn insert_if_absent(&self, breaker: CircuitBreaker) -> CircuitBreaker {
        let given = breaker.clone();
        let kept = self.write().get_or_insert(&given.inner.cfg.name, self.tick(), || breaker);
        warn_if_different(&kept.inner.cfg, &given.inner.cfg);
        kept
    }

    /// Removes the breaker called `name` and returns it; clones held elsewhere keep working,
    /// and the registry makes a fresh one if asked for `name` again.
    ///
    /// ```
    /// use elf_resilience_core::CircuitBreakerRegistry;
    ///
    /// let registry = CircuitBreakerRegistry::default();
    /// registry.get_or_create("tenant-42:chat").trip();
    /// let removed = registry.remove("tenant-42:chat").unwrap();
    /// assert!(removed.state().is_open());
    /// assert!(registry.get("tenant-42:chat").is_none());
    /// assert!(!registry.get_or_create("tenant-42:chat").state().is_open());
    /// ```
    pub fn remove(&self, name: &str) -> Option<CircuitBreaker> {
        self.write().remove(name)
    }

    /// The most breakers this registry holds while enough of them are idle (see the
    /// [bound](Self#bound)).
    pub fn max_breakers(&self) -> usize {
        self.read().max()
    }

    /// Every breaker, sorted by name.
    pub fn all(&self) -> Vec<CircuitBreaker> {
        let mut all: Vec<_> = self.read().breakers().cloned().collect();
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
        self.read().len()
    }

    /// True if there are no breakers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Builds a [`CircuitBreakerRegistry`].
///
/// # Default
///
/// | setting | default |
/// |---------|---------|
/// | template | [`CircuitBreaker::builder()`]'s defaults |
/// | max_breakers | [`DEFAULT_MAX_BREAKERS`] |
#[derive(Debug, Clone)]
#[must_use]
pub struct CircuitBreakerRegistryBuilder {
    template: CircuitBreakerBuilder,
    max_breakers: usize,
}

impl CircuitBreakerRegistryBuilder {
    /// The configuration of breakers made by name (its name is replaced per breaker).
    pub fn template(mut self, template: CircuitBreakerBuilder) -> Self {
        self.template = template;
        self
    }

    /// The bound (at least 1): past it, idle breakers are dropped, least recently used first
    /// (see the [bound](CircuitBreakerRegistry#bound)). `usize::MAX` never drops any.
    pub fn max_breakers(mut self, n: usize) -> Self {
        self.max_breakers = n;
        self
    }

    /// Validates the template and the bound.
    pub fn build(self) -> Result<CircuitBreakerRegistry, InvalidBreakerConfig> {
        if self.max_breakers == 0 {
            return Err(InvalidBreakerConfig::Zero { field: "max_breakers" });
        }
        Ok(CircuitBreakerRegistry {
            template: self.template.into_config()?,
            breakers: RwLock::new(Bounded::new(self.max_breakers)),
            tick: AtomicU64::new(0),
        })
    }
}
