//! `health`: every check once; the exit code says how it went (a Kubernetes exec probe).

use std::process::ExitCode;

use elf_resilience::{HealthReport, HealthStatus};

use crate::checks;
use crate::config::Config;
use crate::stores::existing_ledger;
use crate::wiring::{health_monitor, quota_tracker, resource_manager};

/// Runs each check once and prints the report; 0 healthy, 1 degraded, 2 unhealthy.
pub async fn run(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    // Nothing is written: a probe may run on a read-only filesystem.
    let rm = resource_manager(config, quota_tracker(config, existing_ledger(config))?)?;
    let monitor = health_monitor(config);
    checks::register(&monitor, config, &rm, 1)?;
    for name in monitor.check_names() {
        monitor.run_check_now(&name).await?;
    }
    let report = monitor.get_health_report();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::from(exit_code(report.status)))
}

/// 0 healthy, 1 degraded (or unknown), 2 unhealthy.
pub fn exit_code(status: HealthStatus) -> u8 {
    match status {
        HealthStatus::Healthy => 0,
        HealthStatus::Unhealthy => 2,
        _ => 1,
    }
}

fn mark(status: HealthStatus) -> &'static str {
    match status {
        HealthStatus::Healthy => "✅",
        HealthStatus::Unhealthy => "❌",
        _ => "⚠️",
    }
}

/// One line per check, then the overall status.
pub fn render(report: &HealthReport) -> String {
    let mut out = String::new();
    for (name, c) in &report.checks {
        let critical = if c.critical { " (critical)" } else { "" };
        out.push_str(&format!(
            "{} {name:20} {:10} {}{critical}\n",
            mark(c.status),
            c.status.as_str(),
            c.message
        ));
    }
    out.push_str(&format!("overall: {}\n", report.status.as_str()));
    out
}
