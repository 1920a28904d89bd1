//! "View Resource Status": every resource type with its status and usage, then the system
//! block of the report.
//!
//! Run with `cargo run -p elf-resilience --example resource_status`.

use elf_resilience::{Context, ResourceManager, ResourceStatus, ResourceType};

fn emoji(status: ResourceStatus) -> &'static str {
    match status {
        ResourceStatus::Healthy => "✅",
        ResourceStatus::Warning => "⚠️",
        _ => "❌",
    }
}

#[tokio::main]
async fn main() {
    let rm = ResourceManager::with_default_probes();
    rm.refresh_all().await;

    println!("Resource Status Report");
    println!("{}", "=".repeat(50));
    for resource_type in ResourceType::ALL {
        let reading = rm.reading(resource_type, &Context::new());
        let (status, usage) = (reading.status, reading.usage_percent);
        let why = reading.reason.map(|r| format!("  ({r})")).unwrap_or_default();
        println!("{} {resource_type:15} {status:10} {usage:5.1}%{why}", emoji(status));
    }

    println!("\nResource Report:");
    let report = rm.get_resource_report(24);
    println!("CPU: {} cores", report.system.cpu_count);
    println!("Memory: {:.1} GB", report.system.memory_total_gb);
    println!("Disk: {:.1}% used", report.system.disk_usage_percent);
}
