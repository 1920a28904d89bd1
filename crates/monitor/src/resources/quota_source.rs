//! Where API quota readings for a team or model come from.
//!
//! The resource manager answers [`ResourceType::ApiQuota`](elf_resilience_core::ResourceType)
//! checks that name a team or a model by asking its [`QuotaSource`] (typically the usage
//! ledger), and passes [`record_usage`](crate::ResourceManager::record_usage) calls on to it.

use std::fmt;
use std::time::Duration;

use elf_resilience_core::Context;
use serde::Serialize;

/// Usage of one team on one model over a reporting period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageTotal {
    /// The team, when known.
    pub team: Option<String>,
    /// The model, when known.
    pub model: Option<String>,
    /// The amount used (tokens, requests, ...).
    pub amount: f64,
}

/// Answers "how much of its quota has this team/model used" and takes usage records.
///
/// ```
/// use elf_resilience_core::Context;
/// use elf_resilience_monitor::QuotaSource;
///
/// #[derive(Debug)]
/// struct Fixed(f64);
/// impl QuotaSource for Fixed {
///     fn usage_percent(&self, _ctx: &Context) -> Option<f64> { Some(self.0) }
///     fn record(&self, _amount: f64, _ctx: &Context) {}
/// }
/// assert_eq!(Fixed(42.0).usage_percent(&Context::new().model("gpt-4")), Some(42.0));
/// ```
pub trait QuotaSource: Send + Sync + fmt::Debug + 'static {
    /// Percent (0–100, may exceed 100) of the tightest quota that applies to `ctx`'s team and
    /// model; `None` when no limit is known for them.
    fn usage_percent(&self, ctx: &Context) -> Option<f64>;

    /// Records `amount` of usage (tokens, requests) for `ctx`'s team and model.
    fn record(&self, amount: f64, ctx: &Context);

    /// Totals per team and model over the last `period`, for reports. Empty by default.
    fn totals(&self, period: Duration) -> Vec<UsageTotal> {
        let _ = period;
        Vec::new()
    }
}
