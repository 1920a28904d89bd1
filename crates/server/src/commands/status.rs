//! `status`: the seed's Resource Status Report.

use std::fmt::Write as _;

use elf_resilience::{ResourceReport, ResourceStatus};

use crate::config::Config;
use crate::redact::Redactor;
use crate::stores::open_ledger;
use crate::wiring::{quota_tracker, resource_manager};

/// Samples every probe once and prints the report (or its JSON), scrubbed of secrets.
pub async fn run(config: &Config, json: bool, redactor: &Redactor) -> anyhow::Result<()> {
    let rm = resource_manager(config, quota_tracker(config, open_ledger(config)?)?)?;
    rm.refresh_all().await;
    let report = rm.get_resource_report(24);
    if json {
        println!("{}", serde_json::to_string_pretty(&redactor.json(&report))?);
    } else {
        print!("{}", redactor.scrub(&render(&report)));
    }
    Ok(())
}

/// ✅ healthy, ⚠️ warning, ❌ anything else (as the seed prints it).
pub fn emoji(status: ResourceStatus) -> &'static str {
    match status {
        ResourceStatus::Healthy => "✅",
        ResourceStatus::Warning => "⚠️",
        _ => "❌",
    }
}

/// The report as the seed's table plus the system block.
pub fn render(report: &ResourceReport) -> String {
    let mut out = String::from("Resource Status Report\n");
    out.push_str(&"=".repeat(50));
    out.push('\n');
    for r in &report.resources {
        let _ = write!(
            out,
            "{} {:15} {:10} {:5.1}%",
            emoji(r.status),
            r.resource_type.as_str(),
            r.status.as_str(),
            r.usage_percent
        );
        if let Some(why) = r.why() {
            let _ = write!(out, "  ({why})");
        }
        out.push('\n');
    }
    let s = &report.system;
    let _ = write!(
        out,
        "\nResource Report:\nCPU: {} cores\nMemory: {:.1} GB\nDisk: {:.1}% used\n",
        s.cpu_count, s.memory_total_gb, s.disk_usage_percent
    );
    out
}
