//! `demo`: a flaky local LLM provider and a stream of requests through the whole fallback
//! chain (retry, provider breakers, switch provider, degrade, cache, queue), shown live.

mod client;
mod provider;
mod summary;

use std::sync::Arc;
use std::time::{Duration, Instant};

use elf_resilience::{
    CircuitBreaker, CircuitBreakerRegistry, Context, ExponentialBackoff, FallbackProtocol, FallbackRequest,
    FallbackStrategy, Outcome, QueueWorker, ResourceType, UsageLedger,
};
use indicatif::{ProgressBar, ProgressStyle};

pub use client::{CallError, LlmClient};
pub use provider::{ChatRequest, FlakyProvider, MODELS, Phase};
pub use summary::{Served, Summary};

use crate::config::Config;
use crate::redact::Redactor;
use crate::replay::ReplayStatus;
use crate::stores::Stores;
use crate::wiring::{quota_tracker, resource_manager};

const TEAMS: [&str; 3] = ["marketing-team", "research-team", "support-team"];
const PROMPTS: [&str; 8] = [
    "summarize the quarterly report",
    "draft a product launch email",
    "classify this support ticket",
    "translate the release notes",
    "write a haiku about uptime",
    "extract invoice fields",
    "explain circuit breakers",
    "plan the sprint",
];
const FULL_TOKENS: u32 = 1024;
/// The queue handler the demo queues its requests under and replays in process.
const HANDLER: &str = "chat";

/// Options of `demo`.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Requests to send.
    pub requests: u32,
    /// Keep the dashboard up.
    pub serve: bool,
    /// Seed of the provider's randomness.
    pub seed: u64,
}

/// The breakers: one per provider, quick to open and to probe again, so the demo shows both;
/// they record their call durations.
pub fn breakers() -> anyhow::Result<Arc<CircuitBreakerRegistry>> {
    let template = CircuitBreaker::builder()
        .failure_threshold(3)
        .recovery_timeout(Duration::from_millis(400))
        .record_call_durations(true);
    Ok(Arc::new(CircuitBreakerRegistry::new(template)?))
}

/// The fallback chain the demo uses for API calls.
pub fn protocol(
    stores: &Stores,
    gate: Arc<dyn elf_resilience::ResourceGate>,
    breakers: Arc<CircuitBreakerRegistry>,
) -> anyhow::Result<FallbackProtocol> {
    use FallbackStrategy::*;
    const BACKOFF: ExponentialBackoff = ExponentialBackoff::builder()
        .with_max_retries(1)
        .with_base_delay(Duration::from_millis(20))
        .build_const();
    Ok(FallbackProtocol::builder()
        .gate(gate)
        .providers(MODELS)
        .queue(stores.queue.clone())
        .cache(stores.cache.clone(), Duration::from_secs(1), Duration::from_secs(3600))
        .breakers(breakers)
        .retry_backoff(BACKOFF)
        .order(ResourceType::ApiQuota, [Retry, SwitchProvider, DegradeService, UseCache, QueueRequest])
        .build()?)
}

/// Sends request `i` through the chain.
pub async fn send(
    protocol: &FallbackProtocol,
    llm: &LlmClient,
    breakers: &Arc<CircuitBreakerRegistry>,
    i: u32,
) -> Result<Outcome<String>, elf_resilience::FallbackError<CallError>> {
    let team = TEAMS[i as usize % TEAMS.len()];
    // Every third prompt is new, so the cache cannot answer it during an outage.
    let prompt = match i % 3 {
        0 => format!("{} (#{i})", PROMPTS[i as usize % PROMPTS.len()]),
        _ => PROMPTS[i as usize % PROMPTS.len()].to_owned(),
    };
    let ctx = Context::new().team(team).model(MODELS[0]).operation("chat");
    let payload = serde_json::json!({ "team": team, "prompt": prompt });
    let req = FallbackRequest::new(ResourceType::ApiQuota)
        .context(ctx)
        .cache_key(format!("chat:{prompt}"))
        .queue_payload(HANDLER, payload);
    protocol
        .execute(req, |attempt| {
            let (llm, breakers, prompt) = (llm.clone(), breakers.clone(), prompt.clone());
            async move {
                let model = attempt.model_or(MODELS[0]).to_owned();
                let chat =
                    ChatRequest { model: model.clone(), prompt, max_tokens: attempt.max_tokens(FULL_TOKENS) };
                let breaker = breakers.get_or_create(&model);
                breaker.call_async(|| llm.complete(team, chat)).await.map_err(|e| match e.into_inner() {
                    Some(inner) => inner,
                    None => CallError::Other(format!("breaker {model} open")),
                })
            }
        })
        .await
}

/// The phase the provider is in at request `i` of `n`: flaky, then the primary down, then
/// everything down, then recovered.
pub fn phase_at(i: u32, n: u32) -> Phase {
    match i * 100 / n.max(1) {
        25..=44 => Phase::PrimaryOutage,
        45..=64 => Phase::FullOutage,
        _ => Phase::Normal,
    }
}

fn bar(n: u32) -> ProgressBar {
    let pb = ProgressBar::new(u64::from(n));
    if let Ok(style) = ProgressStyle::with_template("{bar:32} {pos:>3}/{len} {msg}") {
        pb.set_style(style);
    }
    pb
}

fn show(pb: &ProgressBar, line: String) {
    if pb.is_hidden() { println!("{line}") } else { pb.println(line) }
}

/// A finished demo run: its tally, what its queue replay delivered, and the dashboard server
/// when `--serve` asked for one (still running).
#[derive(Debug)]
pub struct Played {
    /// How the requests were served.
    pub summary: Summary,
    /// The demo's queue replay.
    pub replayed: Replayed,
    /// The dashboard server, with `--serve`.
    pub server: Option<crate::serve::Running>,
    /// The demo's resource manager (its samplers run until stopped).
    pub resources: elf_resilience::ResourceManager,
}

/// What the demo's queue replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Requests delivered and answered.
    pub delivered: usize,
    /// Failed attempts, retried.
    pub failed: usize,
    /// Redeliveries of expired leases.
    pub redelivered: usize,
}

/// Runs the demo; with `--serve`, keeps the dashboard up until Ctrl-C.
pub async fn run(config: &Config, opts: DemoOptions, redactor: Redactor) -> anyhow::Result<()> {
    let played = play(config, opts, redactor).await?;
    if let Some(running) = played.server {
        println!("dashboard stays up at http://{}/ — Ctrl-C to stop", running.addr);
        crate::serve::shutdown_signal().await;
        running.shutdown().await?;
    }
    played.resources.stop();
    Ok(())
}

/// The demo up to its end: the requests, the summary, the queue replay (counted in the
/// dashboard's replay totals when serving); the server, if any, is left running.
pub async fn play(config: &Config, opts: DemoOptions, redactor: Redactor) -> anyhow::Result<Played> {
    let stores = Stores::open(config)?;
    let quota = quota_tracker(config, stores.ledger.clone())?;
    let rm = resource_manager(config, quota.clone())?;
    rm.start(); // live readings for the dashboard; the gate's quota comes from the tracker
    let breakers = breakers()?;
    let provider = FlakyProvider::start(opts.seed).await?;
    println!("flaky LLM provider on http://{} (seed {})", provider.addr, opts.seed);
    let server = match opts.serve {
        true => {
            let bind = config.server.bind();
            let (stores, breakers, rm) = (stores.clone(), breakers.clone(), rm.clone());
            let running = crate::serve::start_with(config, bind, redactor, stores, breakers, rm).await?;
            println!("dashboard: http://{}/", running.addr);
            Some(running)
        }
        false => None,
    };
    let gate: Arc<dyn elf_resilience::ResourceGate> = Arc::new(rm.clone());
    let protocol = protocol(&stores, gate, breakers.clone())?;
    let llm = LlmClient::new(provider.url(), quota);
    let summary = stream(&protocol, &llm, &breakers, &provider, opts).await;
    print!("{}", summary.render());
    // The dashboard's replay totals count the demo's worker too.
    let status = server.as_ref().and_then(|r| r.state.replay().cloned()).unwrap_or_default();
    // The provider has recovered (the demo switched it back), which the gate is told directly.
    let replayed = replay(&stores, Arc::new(elf_resilience::StaticGate::new()), &llm, &status).await?;
    stores.ledger.flush()?;
    Ok(Played { summary, replayed, server, resources: rm })
}

async fn stream(
    protocol: &FallbackProtocol,
    llm: &LlmClient,
    breakers: &Arc<CircuitBreakerRegistry>,
    provider: &FlakyProvider,
    opts: DemoOptions,
) -> Summary {
    let pb = bar(opts.requests);
    let mut summary = Summary::default();
    let started = Instant::now();
    let pace = if opts.serve { Duration::from_millis(250) } else { Duration::from_millis(30) };
    for i in 0..opts.requests {
        let phase = phase_at(i, opts.requests);
        provider.set_phase(phase);
        let result = send(protocol, llm, breakers, i).await;
        let served = Served::of(&result);
        let via = result
            .as_ref()
            .ok()
            .and_then(|o| o.served())
            .and_then(|s| s.provider.clone())
            .unwrap_or_default();
        show(&pb, format!("#{i:03} {:14} {:18} {via}", format!("{phase:?}"), served.label()));
        summary.add(&served);
        pb.set_message(served.label());
        pb.inc(1);
        tokio::time::sleep(pace).await;
    }
    pb.finish_and_clear();
    provider.set_phase(Phase::Normal);
    summary.finish(started.elapsed());
    summary
}

/// Delivers what was queued, now that the provider is back, through the queue worker.
async fn replay(
    stores: &Stores,
    gate: Arc<dyn elf_resilience::ResourceGate>,
    llm: &LlmClient,
    status: &ReplayStatus,
) -> anyhow::Result<Replayed> {
    let llm = llm.clone();
    status.add_in_process(HANDLER);
    let worker = QueueWorker::new(stores.queue.clone(), gate).retry_in(Duration::from_millis(50)).register(
        HANDLER,
        ResourceType::ApiQuota,
        move |payload, _ctx| {
            let llm = llm.clone();
            async move {
                let team = payload["team"].as_str().unwrap_or("unknown").to_owned();
                let prompt = payload["prompt"].as_str().unwrap_or("").to_owned();
                let chat = ChatRequest { model: MODELS[1].into(), prompt, max_tokens: 256 };
                llm.complete(&team, chat).await.map(serde_json::Value::from).map_err(|e| e.to_string())
            }
        },
    );
    let mut done = Replayed::default();
    for _ in 0..10 {
        let pass = worker.run_once().await?;
        status.record(&pass);
        done.delivered += pass.succeeded;
        done.failed += pass.failed;
        done.redelivered += pass.redelivered;
        if pass.delivered == 0 && pass.gated == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Replayed { delivered, failed, redelivered } = done;
    println!("queue replay: {delivered} delivered, {failed} failed and retried ({redelivered} redeliveries)");
    Ok(done)
}
