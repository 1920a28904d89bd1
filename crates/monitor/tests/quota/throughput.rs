//! Throughput of the in-memory ledger's `record` (run in release, ignored by default):
//! `cargo test --release -p elf-resilience-monitor --test quota -- --ignored --nocapture`

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use elf_resilience_monitor::{InMemoryLedger, TimeRange, Usage, UsageFilter, UsageLedger};

const PAIRS: [(&str, &str); 8] = [
    ("sales", "gpt-4"),
    ("sales", "claude"),
    ("eng", "gpt-4"),
    ("eng", "claude"),
    ("ops", "mistral"),
    ("ops", "gpt-4"),
    ("research", "claude"),
    ("research", "o3"),
];

fn run(ledger: &InMemoryLedger, n: u64, offset: usize) {
    let base = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for i in 0..n {
        let (team, model) = PAIRS[(i as usize + offset) % PAIRS.len()];
        ledger.record(team, model, Usage::new(100, 1), base + Duration::from_secs(i / 100_000)).unwrap();
    }
}

/// CPU seconds this thread has used (Linux; `None` elsewhere), so a busy machine does not
/// distort the single-thread rate.
fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[test]
#[ignore = "throughput measurement; run in release"]
fn record_throughput() {
    const N: u64 = 20_000_000;
    let ledger = Arc::new(InMemoryLedger::new());
    let (start, cpu0) = (Instant::now(), thread_cpu_secs());
    run(&ledger, N, 0);
    let one = N as f64 / start.elapsed().as_secs_f64();
    if let (Some(a), Some(b)) = (cpu0, thread_cpu_secs()) {
        println!("in-memory ledger record: {:.1} M per CPU-second on 1 thread", N as f64 / (b - a) / 1e6);
    }
    let range = TimeRange::new(UNIX_EPOCH, UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    assert_eq!(ledger.usage(UsageFilter::all(), range).unwrap(), Usage::new(100 * N, N));

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let ledger = Arc::new(InMemoryLedger::new());
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let ledger = ledger.clone();
            std::thread::spawn(move || run(&ledger, N, t))
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    let many = (N * threads as u64) as f64 / start.elapsed().as_secs_f64();
    assert_eq!(ledger.usage(UsageFilter::all(), range).unwrap().requests, N * threads as u64);
    println!(
        "in-memory ledger record: {:.1} M/s on 1 thread, {:.1} M/s on {threads} threads",
        one / 1e6,
        many / 1e6
    );
}
