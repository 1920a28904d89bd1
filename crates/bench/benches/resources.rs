//! The resource manager and the usage ledgers: a cached `check_resource`, one cgroup sample
//! next to sysinfo's cgroup read, what each file of a sample costs (opened each time or kept
//! open), and ledger `record` in memory and in SQLite (batched).
#![allow(missing_docs)] // `criterion_group!` makes an undocumented public function

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use elf_resilience_bench::config;
use elf_resilience_core::{Context, ManualClock, ResourceType, SystemClock};
use elf_resilience_monitor::probes::CgroupReader;
use elf_resilience_monitor::probes::cgroup::CgroupVersion;
use elf_resilience_monitor::quota::{InMemoryLedger, Usage, UsageLedger};
use elf_resilience_monitor::{BoxFuture, Probe, ProbeError, ResourceManager, Sample};
use elf_resilience_store::SqliteLedger;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Records per measured batch of the ledger benchmarks.
const BATCH: u64 = 10_000;
const TEAMS: [&str; 4] = ["sales", "support", "research", "ops"];
const MODELS: [&str; 2] = ["gpt-4", "claude"];

/// A CPU probe that always reads 42 %.
#[derive(Debug)]
struct Fixed;

impl Probe for Fixed {
    fn resource_type(&self) -> ResourceType {
        ResourceType::Cpu
    }
    fn name(&self) -> &str {
        "fixed"
    }
    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(async { Ok(Sample::new(42.0, "fixed")) })
    }
}

fn check_resource(c: &mut Criterion) {
    let clock = ManualClock::new();
    let rm = ResourceManager::builder().clock(clock.shared()).probe(Fixed).build().expect("valid config");
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    rt.block_on(rm.refresh(ResourceType::Cpu));
    let ctx = Context::new();
    assert_eq!(rm.check_resource(ResourceType::Cpu, &ctx).1, 42.0, "the probe's reading is cached");
    let mut g = c.benchmark_group("resource_manager");
    g.bench_function("check_resource_cached", |b| b.iter(|| rm.check_resource(ResourceType::Cpu, &ctx)));
    g.finish();
}

fn cgroup_sample(c: &mut Criterion) {
    let mut g = c.benchmark_group("cgroup_sample");
    match CgroupReader::detect() {
        Ok(reader) => {
            g.bench_function("elf_memory_cpu_psi", |b| b.iter(|| reader.sample()));
        }
        Err(e) => eprintln!("no cgroup to read here ({e}); skipping elf_memory_cpu_psi"),
    }
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    g.bench_function("sysinfo_cgroup_limits_memory_only", |b| b.iter(|| sys.cgroup_limits()));
    g.finish();
}

/// The files one sample reads on this machine, with their cost opened, read and closed each
/// time against a `pread` at offset 0 on a descriptor kept open (what the reader does).
fn cgroup_files(c: &mut Criterion) {
    let Ok(reader) = CgroupReader::detect() else { return };
    let p = reader.paths();
    let v1 = reader.version() == CgroupVersion::V1;
    let (usage, dirs) = if v1 { ("memory.usage_in_bytes", &p.cpuacct) } else { ("memory.current", &None) };
    let mut files: Vec<PathBuf> = [(&p.memory, usage), (&p.memory, "memory.stat"), (&p.cpu, "cpu.stat")]
        .into_iter()
        .chain(dirs.iter().map(|_| (&p.cpuacct, "cpuacct.usage")))
        .filter_map(|(d, f)| d.as_ref().map(|d| d.file(f)))
        .collect();
    files.extend(p.unified.iter().map(|u| u.file("cpu.pressure")));
    files.push(PathBuf::from("/proc/pressure/cpu"));
    let mut g = c.benchmark_group("cgroup_file");
    for path in files.into_iter().filter(|f| f.is_file()) {
        let file = path.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        let name = if path.starts_with("/proc") { format!("proc_pressure_{file}") } else { file };
        g.bench_function(format!("open_read_close/{name}"), |b| {
            b.iter(|| std::fs::read(&path).map(|v| v.len()))
        });
        let (file, mut buf) = (std::fs::File::open(&path).expect("open"), vec![0u8; 4096]);
        g.bench_function(format!("pread/{name}"), |b| b.iter(|| file.read_at(&mut buf, 0).map_or(0, |n| n)));
    }
    g.finish();
}

fn record_batch(ledger: &dyn UsageLedger, at: SystemTime) {
    for i in 0..BATCH as usize {
        let (team, model) = (TEAMS[i % TEAMS.len()], MODELS[i % MODELS.len()]);
        ledger.record(team, model, Usage::new(100, 1), at).expect("recorded");
    }
    ledger.flush().expect("flushed");
}

fn ledgers(c: &mut Criterion) {
    let mut g = c.benchmark_group("ledger_record");
    g.throughput(Throughput::Elements(BATCH));
    let at = SystemTime::now();
    let memory = InMemoryLedger::new();
    g.bench_function("in_memory", |b| b.iter(|| record_batch(&memory, at)));
    let dir = tempfile::tempdir().expect("temp dir");
    let retention = Duration::from_secs(30 * 86_400);
    let sqlite =
        SqliteLedger::open(dir.path().join("usage.db"), SystemClock::shared(), retention).expect("open");
    g.bench_function("sqlite_batched", |b| {
        b.iter_batched(|| (), |()| record_batch(&sqlite, at), BatchSize::PerIteration)
    });
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = check_resource, cgroup_sample, cgroup_files, ledgers }
criterion_main!(benches);
