//! `health`: every check once; the exit code says how it went (a Kubernetes exec probe).

use std::process::ExitCode;

use elf_resilience::{HealthReport, HealthStatus};
use futures_util::future::try_join_all;

use crate::checks;
use crate::cli::FailOn;
use crate::config::Config;
use crate::stores::existing_ledger;
use crate::wiring::{health_monitor, quota_tracker, resource_manager};

/// Runs each check once, all at the same time (the whole run takes about one check timeout,
/// within a probe's `timeoutSeconds`), and prints the report; the exit code as in
/// [`exit_code`].
pub async fn run(config: &Config, json: bool, fail_on: FailOn) -> anyhow::Result<ExitCode> {
    // Nothing is written: a probe may run on a read-only filesystem.
    let rm = resource_manager(config, quota_tracker(config, existing_ledger(config))?)?;
    let monitor = health_monitor(config);
    checks::register(&monitor, config, &rm, 1)?;
    checks::register_storage_once(&monitor, config)?;
    let names = monitor.check_names();
    try_join_all(names.iter().map(|name| monitor.run_check_now(name))).await?;
    let report = monitor.get_health_report();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::from(exit_code(report.status, fail_on)))
}

/// 0 healthy, 1 degraded (or unknown), 2 unhealthy; with [`FailOn::Unhealthy`], degraded and
/// unknown exit 0.
pub fn exit_code(status: HealthStatus, fail_on: FailOn) -> u8 {
    match (status, fail_on) {
        (HealthStatus::Healthy, _) => 0,
        (HealthStatus::Unhealthy, _) => 2,
        (_, FailOn::Unhealthy) => 0,
        (_, FailOn::Degraded) => 1,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_unhealthy_passes_degraded_and_unknown() {
        let codes = |f| {
            [HealthStatus::Healthy, HealthStatus::Degraded, HealthStatus::Unknown, HealthStatus::Unhealthy]
                .map(|s| exit_code(s, f))
        };
        assert_eq!(codes(FailOn::Degraded), [0, 1, 1, 2]);
        assert_eq!(codes(FailOn::Unhealthy), [0, 0, 0, 2]);
    }
}
