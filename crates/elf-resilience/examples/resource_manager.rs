//! The resource manager as the guide uses it: check a resource with context, switch model when
//! the quota is critical, gate memory-hungry work, record usage, report; custom thresholds; and
//! context for better decisions.
//!
//! Run with `cargo run -p elf-resilience --example resource_manager`.

use std::error::Error;
use std::sync::Arc;

use elf_resilience::{
    ApiQuotaProbe, Context, InMemoryLedger, Priority, QuotaLimit, QuotaTracker, QuotaWindow, ResourceManager,
    ResourceType,
};

fn process_large_dataset() {
    let total: u64 = (0..1_000_000u64).sum();
    println!("processed a large dataset (checksum {total})");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // API quota comes from a usage ledger with hourly token budgets per team and model.
    let hourly =
        |model: &str| QuotaLimit::new(QuotaWindow::Hour).team("marketing-team").model(model).tokens(10_000);
    let tracker = QuotaTracker::builder(Arc::new(InMemoryLedger::new()))
        .limit(hourly("gpt-4"))
        .limit(hourly("claude-3-opus"))
        .build()?;
    let tracker = Arc::new(tracker);

    // Initialize manager: host, cgroup and container probes, plus the quota.
    let rm = ResourceManager::builder()
        .default_probes()
        .quota_source(tracker.clone())
        .probe(ApiQuotaProbe::new(tracker))
        .model_alternatives("gpt-4", ["claude-3-opus", "gpt-3.5-turbo"])
        .build()?;
    rm.refresh_all().await;

    // The marketing team has spent 9,600 of its 10,000 hourly gpt-4 tokens.
    let marketing = Context::new().team("marketing-team").model("gpt-4");
    rm.record_usage(ResourceType::ApiQuota, 9_600.0, &marketing);

    // Check resource status
    let (status, usage_pct) = rm.check_resource(ResourceType::ApiQuota, &marketing);
    println!("api quota for marketing-team on gpt-4: {status} ({usage_pct:.1}%)");
    if status.is_pressured() {
        // Get alternative
        let alt = rm.get_alternative_resource(ResourceType::ApiQuota, &Context::new().model("gpt-4"));
        match alt.and_then(|a| a.model) {
            Some(model) => println!("Switch to: {model}"),
            None => println!("no usable alternative to gpt-4"),
        }
    }

    // Check if resource available
    if rm.can_use_resource(ResourceType::Memory) {
        process_large_dataset();
    }

    // Record usage for tracking (tokens)
    rm.record_usage(ResourceType::ApiQuota, 1_000.0, &Context::new().team("marketing-team"));

    // Get comprehensive report
    let report = rm.get_resource_report(24);
    for r in &report.resources {
        let peak = r.peak_usage_percent.map_or("-".to_owned(), |p| format!("{p:.1}%"));
        println!("{:12} {:9} now {:5.1}%  peak {peak}", r.resource_type, r.status, r.usage_percent);
    }
    println!("usage by team: {:?}", report.usage_by_team);

    // Custom thresholds
    let custom = ResourceManager::builder()
        .thresholds(ResourceType::ApiQuota, 70.0, 90.0) // warn at 70 %, critical at 90 %
        .thresholds(ResourceType::Memory, 80.0, 95.0)
        .thresholds(ResourceType::Cpu, 85.0, 98.0)
        .build()?;
    println!("custom cpu thresholds: {:?}", custom.thresholds().get(ResourceType::Cpu));

    // Use Context for Better Decisions
    let ctx = Context::new()
        .team("sales-team")
        .priority(Priority::High)
        .model("gpt-4")
        .operation("customer_analysis");
    let (status, usage) = rm.check_resource(ResourceType::ApiQuota, &ctx);
    println!("api quota for sales-team on gpt-4: {status} ({usage:.1}%)");
    Ok(())
}
