//! The health monitor walkthrough: default checks (CPU, memory, disk, API quota), a custom
//! database check, start, status, report, and an immediate run.
//!
//! The database is the PostgreSQL at `ELF_TEST_POSTGRES_URL` when set, else a SQLite file in
//! the temp directory.
//!
//! ```text
//! cargo run -p elf-resilience --example health_monitor
//! ```

use std::sync::Arc;
use std::time::Duration;

use elf_resilience::probes::{PostgresProbe, SqliteProbe};
use elf_resilience::{
    CheckOutcome, HealthCheck, HealthMonitor, HealthStatus, Probe, ProbeError, ResourceManager,
};

/// The database probe: PostgreSQL connection slots, or a SQLite file's size against 64 MiB
/// (with the file to remove afterwards).
type Database = (Arc<dyn Probe>, Option<std::path::PathBuf>);

fn database_probe() -> Result<Database, Box<dyn std::error::Error>> {
    if let Ok(url) = std::env::var("ELF_TEST_POSTGRES_URL") {
        println!("database: PostgreSQL from ELF_TEST_POSTGRES_URL");
        return Ok((Arc::new(PostgresProbe::new("main", &url)?), None));
    }
    let path = std::env::temp_dir().join(format!("elf-health-example-{}.db", std::process::id()));
    std::fs::File::create(&path)?; // an empty file is an empty SQLite database
    println!("database: SQLite at {}", path.display());
    Ok((Arc::new(SqliteProbe::new("main", &path).max_bytes(64 << 20)), Some(path)))
}

/// Healthy while under 80 % of capacity, as the seed's `active < max_connections * 0.8`.
async fn check_database_connections(probe: Arc<dyn Probe>) -> Result<CheckOutcome, ProbeError> {
    let sample = probe.sample().await?;
    let outcome = if sample.usage_percent < 80.0 {
        CheckOutcome::healthy(sample.detail)
    } else {
        CheckOutcome::unhealthy(sample.detail)
    };
    Ok(outcome.with_observed(sample.usage_percent, "percent"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let monitor = HealthMonitor::new(|result| async move { println!("ALERT (slack): {}", result.summary()) });

    let rm = ResourceManager::with_default_probes();
    let defaults = monitor.register_default_checks(&rm)?;
    println!("default checks: {defaults:?}");

    let (probe, sqlite_file) = database_probe()?;
    monitor.register_check(
        HealthCheck::builder("database_connections", move || check_database_connections(probe.clone()))
            .interval(Duration::from_secs(60))
            .timeout(Duration::from_secs(10))
            .critical(true)
            .build()?,
    )?;

    monitor.start_monitoring().await;
    for name in monitor.check_names() {
        monitor.run_check_now(&name).await?;
    }

    println!("overall: {}", monitor.get_health_status(None));
    println!("database_connections: {}", monitor.get_health_status(Some("database_connections")));

    let report = monitor.get_health_report();
    for (name, details) in &report.checks {
        println!("{name}: {} - {}", details.status, details.message);
    }

    let result = monitor.run_check_now("database_connections").await?;
    if result.status == HealthStatus::Unhealthy {
        println!("database unhealthy ({}): closing idle connections", result.message);
    } else {
        println!("database {} in {:?}", result.status, result.duration);
    }

    monitor.stop().await;
    if let Some(path) = sqlite_file {
        std::fs::remove_file(path)?;
    }
    Ok(())
}
