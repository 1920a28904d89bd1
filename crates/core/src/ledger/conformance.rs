//! One test suite for every [`UsageLedger`] backend.
//!
//! A backend's tests call [`ledger_conformance`] on a new, empty ledger (feature `testing`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{Clock, ManualClock};

use super::{Rollup, TimeRange, Usage, UsageFilter, UsageLedger};

const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// Runs the ledger contract against `ledger`, which must start empty. `clock` is the clock the
/// ledger was built with (if any); the suite moves it forward as it records, by up to 40 hours.
///
/// # Panics
///
/// On the first broken rule, with a message naming it.
pub fn ledger_conformance(ledger: &dyn UsageLedger, clock: &ManualClock) {
    let t0 = next_hour(clock.wall());
    clock.set(clock.now() + t0.duration_since(clock.wall()).unwrap_or_default());
    starts_empty(ledger, t0);
    counts_within_minutes(ledger, clock, t0);
    filters_and_totals(ledger, t0);
    rolls_up_by_hour(ledger, clock, t0);
    keeps_old_hours(ledger, clock, t0);
}

fn next_hour(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs((secs / 3600 + 1) * 3600)
}

fn q(ledger: &dyn UsageLedger, filter: UsageFilter<'_>, from: SystemTime, to: SystemTime) -> Usage {
    ledger.flush().expect("flush");
    ledger.usage(filter, TimeRange::new(from, to)).expect("usage")
}

fn rec(ledger: &dyn UsageLedger, team: &str, model: &str, usage: Usage, at: SystemTime) {
    ledger.record(team, model, usage, at).expect("record");
}

fn starts_empty(ledger: &dyn UsageLedger, t0: SystemTime) {
    assert_eq!(
        q(ledger, UsageFilter::all(), t0 - HOUR, t0 + HOUR),
        Usage::default(),
        "a new ledger is empty"
    );
    let totals = ledger.totals(TimeRange::new(t0 - HOUR, t0 + HOUR)).expect("totals");
    assert!(totals.is_empty(), "a new ledger has no totals: {totals:?}");
}

fn counts_within_minutes(ledger: &dyn UsageLedger, clock: &ManualClock, t0: SystemTime) {
    rec(ledger, "sales", "gpt-4", Usage::new(100, 1), t0);
    rec(ledger, "sales", "gpt-4", Usage::new(250, 2), t0 + Duration::from_secs(59));
    rec(ledger, "sales", "gpt-4", Usage::new(7, 1), t0 + Duration::from_secs(61));
    clock.advance(Duration::from_secs(90));
    let exact = UsageFilter::exact("sales", "gpt-4");
    assert_eq!(q(ledger, exact, t0, t0 + MIN), Usage::new(350, 3), "records in [t, t+1m) count");
    assert_eq!(q(ledger, exact, t0 + MIN, t0 + 2 * MIN), Usage::new(7, 1), "the end is exclusive");
    assert_eq!(q(ledger, exact, t0 - MIN, t0), Usage::default(), "nothing before the first record");
    assert_eq!(q(ledger, exact, t0, t0 + HOUR), Usage::new(357, 4), "a wide range sums everything");
}

fn filters_and_totals(ledger: &dyn UsageLedger, t0: SystemTime) {
    let t = t0 + 2 * MIN;
    rec(ledger, "sales", "claude", Usage::new(40, 1), t);
    rec(ledger, "eng", "gpt-4", Usage::new(1000, 3), t);
    rec(ledger, "eng", "gpt-4", Usage::new(0, 0), t);
    let end = t0 + HOUR;
    assert_eq!(q(ledger, UsageFilter { team: Some("sales"), model: None }, t0, end), Usage::new(397, 5));
    assert_eq!(q(ledger, UsageFilter { team: None, model: Some("gpt-4") }, t0, end), Usage::new(1357, 7));
    assert_eq!(q(ledger, UsageFilter::all(), t0, end), Usage::new(1397, 8));
    assert_eq!(q(ledger, UsageFilter::exact("nobody", "gpt-4"), t0, end), Usage::default());
    let totals = ledger.totals(TimeRange::new(t0, end)).expect("totals");
    let got: Vec<_> = totals.iter().map(|t| (t.team.as_str(), t.model.as_str(), t.usage)).collect();
    assert_eq!(
        got,
        [
            ("eng", "gpt-4", Usage::new(1000, 3)),
            ("sales", "claude", Usage::new(40, 1)),
            ("sales", "gpt-4", Usage::new(357, 4))
        ],
        "totals per team and model, sorted"
    );
}

fn rolls_up_by_hour(ledger: &dyn UsageLedger, clock: &ManualClock, t0: SystemTime) {
    rec(ledger, "ops", "mistral", Usage::new(10, 1), t0 + HOUR + MIN);
    rec(ledger, "ops", "mistral", Usage::new(20, 1), t0 + 2 * HOUR + 5 * MIN);
    rec(ledger, "ops", "mistral", Usage::new(30, 1), t0 + 2 * HOUR + 50 * MIN);
    clock.advance(3 * HOUR);
    ledger.flush().expect("flush");
    let range = TimeRange::new(t0, t0 + 3 * HOUR);
    let ops = UsageFilter { team: Some("ops"), model: None };
    let hours = ledger.rollup(ops, range, Rollup::Hour).expect("rollup");
    let got: Vec<_> = hours.iter().map(|b| (b.start, b.usage)).collect();
    assert_eq!(
        got,
        [(t0 + HOUR, Usage::new(10, 1)), (t0 + 2 * HOUR, Usage::new(50, 2))],
        "hourly rollups skip empty hours"
    );
    let minutes = ledger.rollup(UsageFilter::exact("sales", "gpt-4"), range, Rollup::Minute).expect("rollup");
    let got: Vec<_> = minutes.iter().map(|b| (b.start, b.usage)).collect();
    assert_eq!(got, [(t0, Usage::new(350, 3)), (t0 + MIN, Usage::new(7, 1))], "minute rollups");
}

fn keeps_old_hours(ledger: &dyn UsageLedger, clock: &ManualClock, t0: SystemTime) {
    let late = t0 + 40 * HOUR;
    rec(ledger, "ops", "mistral", Usage::new(1, 1), late);
    clock.advance(37 * HOUR);
    let ops = UsageFilter::exact("ops", "mistral");
    assert_eq!(
        q(ledger, ops, t0 + HOUR, t0 + 2 * HOUR),
        Usage::new(10, 1),
        "hours older than a day are kept"
    );
    assert_eq!(q(ledger, ops, t0, t0 + 41 * HOUR), Usage::new(61, 4), "a long range spans old and new hours");
    assert_eq!(q(ledger, ops, late, late + MIN), Usage::new(1, 1), "recent minutes stay exact");
}
