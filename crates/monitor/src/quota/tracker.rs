//! [`QuotaTracker`]: usage against limits and against what providers last said.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use elf_resilience_core::{Clock, SharedClock, SystemClock};

use super::headers::RateLimitSnapshot;
use super::ledger::{LedgerError, TimeRange, Usage, UsageFilter, UsageLedger};
use super::limits::{QuotaConfigError, QuotaLimit};
use super::llm_error::LlmErrorKind;

/// What a provider last said about one model, and when (monotonic clock time).
#[derive(Debug, Clone, Default)]
struct Observed {
    snapshot: RateLimitSnapshot,
    at: Duration,
    blocked_until: Option<Duration>,
}

impl Observed {
    fn percent(&self, now: Duration) -> Option<f64> {
        if self.blocked_until.is_some_and(|until| now < until) {
            return Some(100.0);
        }
        if self.snapshot.retry_after.is_some_and(|d| now < self.at + d) {
            return Some(100.0);
        }
        let live = |reset: Option<Duration>| reset.is_none_or(|r| now < self.at + r);
        self.snapshot
            .limits
            .iter()
            .filter(|(_, s)| live(s.reset_after))
            .filter_map(|(_, s)| s.used_percent())
            .reduce(f64::max)
    }
}

/// Tracks API quota: usage in a [`UsageLedger`] against configured [`QuotaLimit`]s, and the
/// rate-limit state providers report in their headers. The worst window, limit or provider
/// figure wins, so a quota turns critical before the provider answers 429.
///
/// Provider figures expire at their reset time; a rate-limit error blocks the model for its
/// `retry-after` (60 s when none was given), a billing error for the billing cooldown (1 h by
/// default).
///
/// ```
/// use elf_resilience_core::ManualClock;
/// use elf_resilience_monitor::{InMemoryLedger, QuotaLimit, QuotaTracker, QuotaWindow, Usage};
/// use std::sync::Arc;
///
/// let clock = ManualClock::new();
/// let tracker = QuotaTracker::builder(Arc::new(InMemoryLedger::new()))
///     .clock(clock.shared())
///     .limit(QuotaLimit::new(QuotaWindow::Minute).team("sales").model("gpt-4").tokens(1000))
///     .build()
///     .unwrap();
/// tracker.record("sales", "gpt-4", Usage::new(850, 1)).unwrap();
/// assert_eq!(tracker.usage_percent_for(Some("sales"), Some("gpt-4")), Some(85.0));
/// ```
pub struct QuotaTracker {
    ledger: Arc<dyn UsageLedger>,
    clock: SharedClock,
    limits: Vec<QuotaLimit>,
    billing_cooldown: Duration,
    providers: RwLock<HashMap<String, Observed>>,
}

impl fmt::Debug for QuotaTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuotaTracker").field("ledger", &self.ledger).field("limits", &self.limits).finish()
    }
}

/// Builds a [`QuotaTracker`].
#[derive(Debug)]
pub struct QuotaTrackerBuilder {
    ledger: Arc<dyn UsageLedger>,
    clock: SharedClock,
    limits: Vec<QuotaLimit>,
    billing_cooldown: Duration,
}

impl QuotaTrackerBuilder {
    /// The clock for windows and provider resets (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Adds a limit.
    pub fn limit(mut self, limit: QuotaLimit) -> Self {
        self.limits.push(limit);
        self
    }

    /// How long a billing error (quota exhausted) blocks a model. Default 1 h.
    pub fn billing_cooldown(mut self, cooldown: Duration) -> Self {
        self.billing_cooldown = cooldown;
        self
    }

    /// Checks every limit and builds the tracker.
    pub fn build(self) -> Result<QuotaTracker, QuotaConfigError> {
        self.limits.iter().try_for_each(QuotaLimit::validate)?;
        Ok(QuotaTracker {
            ledger: self.ledger,
            clock: self.clock,
            limits: self.limits,
            billing_cooldown: self.billing_cooldown,
            providers: RwLock::new(HashMap::new()),
        })
    }
}

impl QuotaTracker {
    /// A builder writing to and reading from `ledger`.
    pub fn builder(ledger: Arc<dyn UsageLedger>) -> QuotaTrackerBuilder {
        QuotaTrackerBuilder {
            ledger,
            clock: SystemClock::shared(),
            limits: Vec::new(),
            billing_cooldown: Duration::from_secs(3600),
        }
    }

    /// The ledger it records to.
    pub fn ledger(&self) -> &Arc<dyn UsageLedger> {
        &self.ledger
    }

    /// The clock it reads.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The configured limits.
    pub fn limits(&self) -> &[QuotaLimit] {
        &self.limits
    }

    /// Records usage by `team` on `model`, now.
    pub fn record(&self, team: &str, model: &str, usage: Usage) -> Result<(), LedgerError> {
        self.ledger.record(team, model, usage, self.clock.wall())
    }

    /// Takes in the rate-limit headers of a response from `model`'s provider.
    pub fn observe_headers(&self, model: &str, snapshot: RateLimitSnapshot) {
        if snapshot.is_empty() {
            return;
        }
        if let Some(pct) = snapshot.worst_percent() {
            metrics::gauge!("elf_quota_provider_usage_ratio", "model" => model.to_owned())
                .set((pct / 100.0).clamp(0.0, 1.0));
            tracing::debug!(model, percent = pct, "provider rate-limit headers");
        }
        let now = self.clock.now();
        let mut map = self.providers.write().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(model.to_owned()).or_default();
        entry.snapshot = snapshot;
        entry.at = now;
    }

    /// Takes in a classified error from `model`'s provider: rate limits and billing errors block it.
    pub fn observe_error(&self, model: &str, kind: LlmErrorKind) {
        let block = match kind {
            LlmErrorKind::RateLimited { retry_after } => retry_after.unwrap_or(Duration::from_secs(60)),
            LlmErrorKind::QuotaExhausted => self.billing_cooldown,
            _ => return,
        };
        metrics::counter!("elf_quota_blocks_total", "model" => model.to_owned()).increment(1);
        tracing::info!(model, ?kind, ?block, "provider refused: quota blocked");
        let until = self.clock.now() + block;
        let mut map = self.providers.write().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(model.to_owned()).or_default();
        entry.blocked_until = Some(entry.blocked_until.map_or(until, |u| u.max(until)));
    }

    /// The percent used of the tightest limit or provider figure covering `team` on `model`;
    /// `None` when nothing is known about them.
    pub fn usage_percent_for(&self, team: Option<&str>, model: Option<&str>) -> Option<f64> {
        let from_limits =
            self.limits.iter().filter(|l| l.applies_to(team, model)).filter_map(|l| self.limit_percent(l));
        let from_provider = model.and_then(|m| self.provider_percent(m));
        from_limits.chain(from_provider).reduce(f64::max)
    }

    /// The worst percent over every limit and provider: the API quota as a whole.
    pub fn worst_percent(&self) -> Option<f64> {
        let now = self.clock.now();
        let providers = self.providers.read().unwrap_or_else(|e| e.into_inner());
        let from_providers: Vec<f64> = providers.values().filter_map(|o| o.percent(now)).collect();
        drop(providers);
        self.limits.iter().filter_map(|l| self.limit_percent(l)).chain(from_providers).reduce(f64::max)
    }

    fn limit_percent(&self, limit: &QuotaLimit) -> Option<f64> {
        let filter = UsageFilter { team: limit.team.as_deref(), model: limit.model.as_deref() };
        // The current second counts: the window is the `len` whole seconds up to and including it.
        let range = TimeRange::last(limit.window.duration(), self.clock.wall() + Duration::from_secs(1));
        match self.ledger.usage(filter, range) {
            Ok(used) => Some(limit.percent(used)),
            Err(e) => {
                tracing::warn!(error = %e, "usage ledger unreadable; quota limit skipped");
                None
            }
        }
    }

    fn provider_percent(&self, model: &str) -> Option<f64> {
        let now = self.clock.now();
        self.providers.read().unwrap_or_else(|e| e.into_inner()).get(model)?.percent(now)
    }
}
