//! Integration pattern 4: deploy a team after checking CPU, memory, Docker and Kubernetes
//! resources; queue the deployment when they are short, and deploy through a circuit breaker.
//!
//! Run with `cargo run -p elf-resilience --example integration_team_deploy`.

use std::sync::Arc;
use std::time::SystemTime;

use elf_resilience::{
    CircuitBreaker, Context, EnqueueRequest, InMemoryQueue, RequestQueue, ResourceGate, ResourceStatus,
    ResourceType, StaticGate,
};

const REQUIRED: [ResourceType; 4] =
    [ResourceType::Cpu, ResourceType::Memory, ResourceType::Docker, ResourceType::K8sPod];

async fn deploy_team(team_name: &str, attempt: u32) -> Result<String, String> {
    if attempt < 3 {
        Err(format!("registry timeout deploying {team_name}"))
    } else {
        Ok(format!("{team_name} deployed"))
    }
}

async fn deploy_team_with_resilience(
    team_name: &str,
    gate: &dyn ResourceGate,
    queue: &dyn RequestQueue,
    attempt: u32,
) -> Result<Option<String>, Box<dyn std::error::Error>> {
    let ctx = Context::new().team(team_name).operation("deploy");
    let short: Vec<_> = REQUIRED.into_iter().filter(|r| !gate.check(*r, &ctx).status.is_usable()).collect();
    if !short.is_empty() {
        let ticket = queue.enqueue(
            EnqueueRequest::new("deploy", serde_json::json!({ "team": team_name })),
            SystemTime::now(),
        )?;
        println!("{team_name}: {short:?} short, deployment queued as {ticket}");
        return Ok(None);
    }
    let breaker = elf_resilience::CircuitBreakerRegistry::global()
        .get_or_create_with(&format!("deploy-{team_name}"), CircuitBreaker::builder().failure_threshold(2))?;
    match breaker.call_async(|| deploy_team(team_name, attempt)).await {
        Ok(done) => Ok(Some(done)),
        Err(e) => {
            println!("{team_name}: deployment failed: {e} (breaker {:?})", breaker.state());
            Ok(None)
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gate = Arc::new(StaticGate::new());
    let queue = InMemoryQueue::new();
    gate.set(ResourceType::K8sPod, ResourceStatus::Exhausted, 100.0);
    deploy_team_with_resilience("sales-team", gate.as_ref(), &queue, 1).await?;
    gate.set(ResourceType::K8sPod, ResourceStatus::Healthy, 30.0);
    for attempt in 1..=3 {
        if let Some(done) = deploy_team_with_resilience("sales-team", gate.as_ref(), &queue, attempt).await? {
            println!("{done}");
        }
    }
    println!("queued deployments: {}", queue.list(None, 10)?.len());
    Ok(())
}
