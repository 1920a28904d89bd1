//! The in-memory ledger's per-thread pending cells: what one thread records is visible to
//! others at once, survives the thread, and is never counted twice while it moves to the
//! shared rings.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use elf_resilience_monitor::{InMemoryLedger, Rollup, TimeRange, Usage, UsageFilter, UsageLedger};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn all(ledger: &InMemoryLedger) -> Usage {
    ledger.usage(UsageFilter::all(), TimeRange::new(UNIX_EPOCH, at(1_000_000))).unwrap()
}

#[test]
fn another_threads_records_are_visible_before_and_after_it_exits() {
    let ledger = Arc::new(InMemoryLedger::new());
    let (recorded, checked) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let writer = {
        let (ledger, recorded, checked) = (ledger.clone(), recorded.clone(), checked.clone());
        std::thread::spawn(move || {
            ledger.record("sales", "gpt-4", Usage::new(100, 1), at(0)).unwrap();
            ledger.record("sales", "gpt-4", Usage::new(50, 1), at(0)).unwrap();
            recorded.wait();
            checked.wait();
        })
    };
    recorded.wait();
    assert_eq!(all(&ledger), Usage::new(150, 2), "pending usage of a live thread counts");
    checked.wait();
    writer.join().unwrap();
    assert_eq!(all(&ledger), Usage::new(150, 2), "an exited thread's usage moved to the rings");
    let second = TimeRange::new(at(0), at(1));
    assert_eq!(ledger.usage(UsageFilter::exact("sales", "gpt-4"), second).unwrap(), Usage::new(150, 2));
}

#[test]
fn records_older_than_the_pending_second_land_in_their_own_bucket() {
    let ledger = InMemoryLedger::new();
    ledger.record("ops", "o3", Usage::new(1, 1), at(120)).unwrap();
    ledger.record("ops", "o3", Usage::new(10, 1), at(59)).unwrap();
    ledger.record("ops", "o3", Usage::new(100, 1), at(120)).unwrap();
    ledger.record("ops", "o3", Usage::new(1000, 1), at(121)).unwrap();
    let secs = |from, to| ledger.usage(UsageFilter::all(), TimeRange::new(at(from), at(to))).unwrap();
    assert_eq!(secs(120, 121), Usage::new(101, 2));
    assert_eq!(secs(121, 122), Usage::new(1000, 1));
    assert_eq!(secs(59, 60), Usage::new(10, 1));
    let minutes = ledger.rollup(UsageFilter::all(), TimeRange::new(at(0), at(180)), Rollup::Minute).unwrap();
    let tokens: Vec<u64> = minutes.iter().map(|b| b.usage.tokens).collect();
    assert_eq!(tokens, [10, 1101]);
}

#[test]
fn more_pairs_than_a_thread_keeps_and_a_dropped_ledger_lose_nothing() {
    let dropped = InMemoryLedger::new();
    dropped.record("gone", "m", Usage::new(7, 1), at(0)).unwrap();
    drop(dropped);
    let ledger = InMemoryLedger::new();
    for round in 0..3u64 {
        for pair in 0..600u64 {
            let team = format!("team-{pair}");
            ledger.record(&team, "m", Usage::new(pair, 1), at(round)).unwrap();
        }
    }
    assert_eq!(all(&ledger), Usage::new(3 * (0..600).sum::<u64>(), 1800));
    let totals = ledger.totals(TimeRange::new(at(0), at(10))).unwrap();
    assert_eq!(totals.len(), 600, "team-0 spent no tokens but made requests");
    assert_eq!(totals.iter().find(|t| t.team == "team-42").map(|t| t.usage), Some(Usage::new(126, 3)));
}

#[test]
fn readers_never_see_a_total_shrink_while_writers_change_seconds() {
    const PER_THREAD: u64 = 20_000;
    let ledger = Arc::new(InMemoryLedger::new());
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|t| {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let model = if (i + t) % 3 == 0 { "claude" } else { "gpt-4" };
                    ledger.record("eng", model, Usage::new(2, 1), at(i / 50)).unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let (ledger, done) = (ledger.clone(), done.clone());
        std::thread::spawn(move || {
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                let u = all(&ledger);
                assert!(u.requests >= last && u.requests <= 2 * PER_THREAD, "{} after {last}", u.requests);
                last = u.requests;
            }
        })
    };
    writers.into_iter().for_each(|w| w.join().unwrap());
    done.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    assert_eq!(all(&ledger), Usage::new(4 * PER_THREAD, 2 * PER_THREAD));
}

#[test]
fn the_in_memory_ledger_conforms() {
    elf_resilience_core::ledger_conformance(&InMemoryLedger::new(), &elf_resilience_core::ManualClock::new());
}
