//! Usage recorded through the manager, kept in memory by hour for reports.

use std::collections::BTreeMap;

use elf_resilience_core::{Context, ResourceType};

use super::quota_source::UsageTotal;

const HOUR_NANOS: u64 = 3_600_000_000_000;
/// Hours kept: a week.
const RETAINED_HOURS: u64 = 7 * 24;

type Key = (u64, ResourceType, Option<String>, Option<String>);

/// Recorded amounts per (hour, type, team, model).
#[derive(Debug, Default)]
pub(crate) struct UsageLog {
    amounts: BTreeMap<Key, f64>,
}

impl UsageLog {
    /// Adds `amount` for `ctx`'s team and model at monotonic time `now`.
    pub(crate) fn record(&mut self, now: u64, resource: ResourceType, amount: f64, ctx: &Context) {
        let hour = now / HOUR_NANOS;
        let key = (hour, resource, ctx.team_name.clone(), ctx.model.clone());
        *self.amounts.entry(key).or_default() += amount;
        let oldest = hour.saturating_sub(RETAINED_HOURS);
        self.amounts.retain(|k, _| k.0 >= oldest);
    }

    /// The total recorded for `resource` since `since` (nanoseconds, by whole hours).
    pub(crate) fn total(&self, resource: ResourceType, since: u64) -> f64 {
        // Folded from +0.0: `f64`'s `sum` starts at -0.0, which a report would show as `-0.0`.
        self.since(since).filter(|(k, _)| k.1 == resource).fold(0.0, |total, (_, v)| total + v)
    }

    /// Totals of `resource` per team and model since `since`.
    pub(crate) fn totals(&self, resource: ResourceType, since: u64) -> Vec<UsageTotal> {
        let mut merged: BTreeMap<(Option<String>, Option<String>), f64> = BTreeMap::new();
        for (k, v) in self.since(since).filter(|(k, _)| k.1 == resource) {
            *merged.entry((k.2.clone(), k.3.clone())).or_default() += v;
        }
        merged.into_iter().map(|((team, model), amount)| UsageTotal { team, model, amount }).collect()
    }

    fn since(&self, since: u64) -> impl Iterator<Item = (&Key, f64)> {
        let first = since / HOUR_NANOS;
        self.amounts.iter().filter(move |(k, _)| k.0 >= first).map(|(k, v)| (k, *v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_recorded_totals_positive_zero() {
        let total = UsageLog::default().total(ResourceType::ApiQuota, 0);
        assert!(total == 0.0 && total.is_sign_positive(), "{total:?}");
        assert_eq!(serde_json::to_string(&total).unwrap(), "0.0");
    }

    #[test]
    fn totals_group_by_team_and_model_within_the_period() {
        let mut log = UsageLog::default();
        let api = ResourceType::ApiQuota;
        let sales = Context::new().team("sales").model("gpt-4");
        log.record(0, api, 100.0, &sales);
        log.record(5 * HOUR_NANOS, api, 10.0, &sales);
        log.record(5 * HOUR_NANOS, api, 5.0, &Context::new().team("ops"));
        assert_eq!(log.total(api, 0), 115.0);
        assert_eq!(log.total(api, 5 * HOUR_NANOS), 15.0);
        let totals = log.totals(api, 5 * HOUR_NANOS);
        assert_eq!(totals.len(), 2);
        assert_eq!(totals[1].team.as_deref(), Some("sales"));
        assert_eq!(totals[1].amount, 10.0);
    }
}
