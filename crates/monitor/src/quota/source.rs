//! The quota tracker as the resource manager's [`QuotaSource`] and as an API-quota [`Probe`].

use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{Clock, Context, ResourceType};

use super::ledger::{TimeRange, Usage};
use super::tracker::QuotaTracker;
use crate::resources::{BoxFuture, Probe, ProbeError, QuotaSource, Sample, UsageTotal};

/// The team or model recorded when a context names none.
const UNNAMED: &str = "unknown";

impl QuotaSource for QuotaTracker {
    fn usage_percent(&self, ctx: &Context) -> Option<f64> {
        self.usage_percent_for(ctx.team_name.as_deref(), ctx.model.as_deref())
    }

    /// Records `amount` tokens and one request.
    fn record(&self, amount: f64, ctx: &Context) {
        let team = ctx.team_name.as_deref().unwrap_or(UNNAMED);
        let model = ctx.model.as_deref().unwrap_or(UNNAMED);
        let tokens = if amount.is_finite() && amount > 0.0 { amount as u64 } else { 0 };
        if let Err(e) = QuotaTracker::record(self, team, model, Usage::new(tokens, 1)) {
            tracing::warn!(error = %e, team, model, "usage not recorded");
        }
    }

    fn totals(&self, period: Duration) -> Vec<UsageTotal> {
        let range = TimeRange::last(period, self.clock().wall() + Duration::from_secs(1));
        match self.ledger().totals(range) {
            Ok(totals) => totals
                .into_iter()
                .map(|t| UsageTotal {
                    team: Some(t.team),
                    model: Some(t.model),
                    amount: t.usage.tokens as f64,
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "usage ledger unreadable; no totals");
                Vec::new()
            }
        }
    }
}

/// The API quota as a whole, for the resource manager's sampler: the worst of every limit and
/// provider figure the tracker knows.
///
/// ```
/// use elf_resilience_monitor::{ApiQuotaProbe, InMemoryLedger, Probe, QuotaTracker};
/// use std::sync::Arc;
///
/// let tracker = Arc::new(QuotaTracker::builder(Arc::new(InMemoryLedger::new())).build().unwrap());
/// let probe = ApiQuotaProbe::new(tracker);
/// assert_eq!(probe.name(), "quota");
/// ```
#[derive(Debug, Clone)]
pub struct ApiQuotaProbe {
    tracker: Arc<QuotaTracker>,
}

impl ApiQuotaProbe {
    /// A probe over `tracker`.
    pub fn new(tracker: Arc<QuotaTracker>) -> Self {
        Self { tracker }
    }
}

impl Probe for ApiQuotaProbe {
    fn resource_type(&self) -> ResourceType {
        ResourceType::ApiQuota
    }

    fn name(&self) -> &str {
        "quota"
    }

    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        let reading = self.tracker.worst_percent();
        Box::pin(async move {
            let pct = reading
                .ok_or_else(|| ProbeError::Absent("no quota limits or provider figures yet".into()))?;
            Ok(Sample::new(pct, format!("{pct:.1} % of the tightest API quota used")))
        })
    }
}
