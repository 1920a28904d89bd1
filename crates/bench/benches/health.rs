//! The health scheduler's cost: 10,000 trivial checks at 1 s intervals.
//!
//! Each iteration is one second of tokio's paused time on a current-thread runtime, so the
//! wall time an iteration takes is the CPU the scheduler and the 10,000 runs cost per second;
//! divided by one second it is the share of one core. With `ELF_BENCH_REALTIME=1`, it also
//! runs the same load for 5 s of real time and reads the process CPU time from
//! `/proc/self/stat`.
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use elf_resilience_monitor::{HealthCheck, HealthMonitor};

const CHECKS: u64 = 10_000;

fn monitor() -> HealthMonitor {
    let monitor = HealthMonitor::builder().jitter_seed(1).build();
    for i in 0..CHECKS {
        let check = HealthCheck::builder(format!("check-{i}"), || async { true })
            .interval(Duration::from_secs(1))
            .timeout(Duration::from_millis(500))
            .build()
            .expect("valid check");
        monitor.register_check(check).expect("unique name");
    }
    monitor
}

fn scheduler_cost(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let monitor = monitor();
    rt.block_on(async {
        monitor.start_monitoring().await;
        tokio::time::sleep(Duration::from_secs(2)).await; // past the jittered first runs
    });
    let mut group = c.benchmark_group("health_scheduler");
    group.throughput(Throughput::Elements(CHECKS));
    group.sample_size(20);
    group.bench_function("10k_checks_1s_interval_one_virtual_second", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                tokio::time::sleep(Duration::from_secs(iters)).await;
                start.elapsed()
            })
        });
    });
    group.finish();
    rt.block_on(monitor.stop());
}

/// Process CPU time (user + system) in clock ticks of 10 ms, from `/proc/self/stat`.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn realtime_cpu() {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().expect("runtime");
    let monitor = monitor();
    rt.block_on(async {
        monitor.start_monitoring().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (t0, c0) = (Instant::now(), cpu_ticks());
        tokio::time::sleep(Duration::from_secs(5)).await;
        let (elapsed, c1) = (t0.elapsed(), cpu_ticks());
        if let (Some(c0), Some(c1)) = (c0, c1) {
            let cpu = Duration::from_millis((c1 - c0) * 10);
            let pct = 100.0 * cpu.as_secs_f64() / elapsed.as_secs_f64();
            println!("health realtime: {CHECKS} checks at 1 s for {elapsed:.1?}: CPU {cpu:?} = {pct:.2}% of one core");
        }
        monitor.stop().await;
    });
}

criterion_group!(benches, scheduler_cost);

fn main() {
    benches();
    if std::env::var_os("ELF_BENCH_REALTIME").is_some() {
        realtime_cpu();
    }
    Criterion::default().configure_from_args().final_summary();
}
