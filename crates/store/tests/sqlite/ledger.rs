use std::time::{Duration, SystemTime};

use elf_resilience_core::{
    Clock, LedgerError, ManualClock, TimeRange, Usage, UsageFilter, UsageLedger, ledger_conformance,
};
use elf_resilience_store::SqliteLedger;

const DAY: Duration = Duration::from_secs(86_400);
const HOUR: Duration = Duration::from_secs(3600);

fn ledger_at(path: &std::path::Path, clock: &ManualClock, retention: Duration) -> SqliteLedger {
    SqliteLedger::open(path, clock.shared(), retention).unwrap()
}

#[test]
fn the_sqlite_ledger_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    ledger_conformance(&ledger_at(&dir.path().join("u.db"), &clock, 30 * DAY), &clock);
}

#[test]
fn history_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.db");
    let clock = ManualClock::new();
    let t = clock.wall();
    {
        let ledger = ledger_at(&path, &clock, 30 * DAY);
        ledger.record("sales", "gpt-4", Usage::new(500, 2), t).unwrap();
        ledger.record("eng", "claude", Usage::new(70, 1), t).unwrap();
    } // dropped without an explicit flush: drop writes what is pending
    let ledger = ledger_at(&path, &clock, 30 * DAY);
    let range = TimeRange::new(t - HOUR, t + HOUR);
    assert_eq!(ledger.usage(UsageFilter::all(), range).unwrap(), Usage::new(570, 3));
    assert_eq!(ledger.totals(range).unwrap().len(), 2);
}

#[test]
fn retention_drops_old_hours_and_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let ledger = ledger_at(&dir.path().join("u.db"), &clock, 2 * DAY);
    let old = clock.wall();
    ledger.record("ops", "m", Usage::new(10, 1), old).unwrap();
    ledger.flush().unwrap();
    clock.advance(3 * DAY);
    ledger.record("ops", "m", Usage::new(1, 1), clock.wall()).unwrap();
    ledger.flush().unwrap();
    let everything = TimeRange::new(old - HOUR, clock.wall() + HOUR);
    assert_eq!(
        ledger.usage(UsageFilter::all(), everything).unwrap(),
        Usage::new(1, 1),
        "the old hour is gone"
    );
}

#[test]
fn a_closed_ledger_refuses_records() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let ledger = ledger_at(&dir.path().join("u.db"), &clock, DAY);
    ledger.close().unwrap();
    let err = ledger.record("a", "b", Usage::new(1, 1), clock.wall()).unwrap_err();
    assert!(matches!(err, LedgerError::Closed), "{err:?}");
}

#[test]
fn batched_writes_keep_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let ledger = ledger_at(&dir.path().join("u.db"), &clock, DAY);
    let t = clock.wall();
    let n = 120_000u64;
    let started = std::time::Instant::now();
    for i in 0..n {
        let team = if i % 2 == 0 { "a" } else { "b" };
        ledger.record(team, "m", Usage::new(3, 1), t + Duration::from_secs(i % 600)).unwrap();
    }
    ledger.flush().unwrap();
    let rate = n as f64 / started.elapsed().as_secs_f64();
    println!("sqlite ledger: {rate:.0} records/s (debug build unless --release)");
    let range = TimeRange::new(t - HOUR, t + HOUR);
    assert_eq!(ledger.usage(UsageFilter::all(), range).unwrap(), Usage::new(3 * n, n));
}
