//! Health checks built from the config: the built-in ones (cpu, memory, disk, api quota) and
//! the configured http, tcp and resource checks.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use elf_resilience::{
    CheckOutcome, HealthCheck, HealthCheckBuilder, HealthMonitor, QueueError, RequestQueue, ResourceManager,
    ResourceStatus, ResourceType, SystemSummary, TicketStatus,
};

use crate::config::{CheckKind, Config, HealthCheckConfig};
use crate::stores::{Backend, Stores};

/// Sized for Kubernetes: a probe's default `periodSeconds` is 10 and `timeoutSeconds` 1.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// How long one check may take unless it sets its own `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// Disk usage at or above which the disk check is degraded, and unhealthy.
const DISK_LEVELS: (f64, f64) = (85.0, 95.0);

/// Registers every check of `config` on `monitor`; `failures` is the number of failed runs in
/// a row that turn a check unhealthy (1 for one-shot CLI runs).
pub fn register(
    monitor: &HealthMonitor,
    config: &Config,
    rm: &ResourceManager,
    failures: u32,
) -> anyhow::Result<()> {
    let interval = config.health.interval.map_or(DEFAULT_INTERVAL, |d| d.0);
    // The defaults first: a configured check's own interval and timeout are set after them.
    let defaults =
        |b: HealthCheckBuilder| b.interval(interval).timeout(DEFAULT_TIMEOUT).failure_threshold(failures);
    let mut checks = Vec::new();
    if config.health.default_checks.unwrap_or(true) {
        checks.push(resource_check("cpu", ResourceType::Cpu, rm, false));
        checks.push(resource_check("memory", ResourceType::Memory, rm, true));
        checks.push(disk_check());
        if !config.models.quotas.is_empty() {
            checks.push(resource_check("api_quota", ResourceType::ApiQuota, rm, false));
        }
    }
    let mut checks: Vec<_> = checks.into_iter().map(defaults).collect();
    for c in &config.health.checks {
        checks.push(configured(c, rm, defaults)?);
    }
    for b in checks {
        monitor.register_check(b.build()?)?;
    }
    Ok(())
}

/// Registers the storage check, critical: with Redis, `storage:redis`, unhealthy while Redis
/// does not answer, so `/health` says so instead of staying green while every replay pass
/// fails; with SQLite, `storage:sqlite`, unhealthy while the data directory takes no writes
/// (its disk full, or read-only).
pub fn register_storage(monitor: &HealthMonitor, config: &Config, stores: &Stores) -> anyhow::Result<()> {
    let check = match stores.backend {
        Backend::Redis => redis_check(stores),
        Backend::Sqlite => sqlite_check(stores.dir.clone()),
    };
    let check = check
        .component_type("datastore")
        .critical(true)
        .interval(config.health.interval.map_or(DEFAULT_INTERVAL, |d| d.0))
        .timeout(DEFAULT_TIMEOUT)
        .failure_threshold(1);
    monitor.register_check(check.build()?)?;
    Ok(())
}

/// For the one-shot `health` command, which opens no stores: with `[storage] redis_url`, a
/// `storage:redis` check that connects for its run. Nothing for SQLite (`health` writes nothing).
pub fn register_storage_once(monitor: &HealthMonitor, config: &Config) -> anyhow::Result<()> {
    let Some(url) = &config.storage.redis_url else { return Ok(()) };
    let (url, prefix) = (url.0.expose().to_owned(), format!("{}:queue", config.storage.redis_prefix()));
    let connect = move || -> Result<Arc<dyn RequestQueue>, QueueError> { open_redis_queue(&url, &prefix) };
    let check = storage_redis(connect).component_type("datastore").critical(true).timeout(DEFAULT_TIMEOUT);
    monitor.register_check(check.build()?)?;
    Ok(())
}

#[cfg(feature = "redis")]
fn open_redis_queue(url: &str, prefix: &str) -> Result<Arc<dyn RequestQueue>, QueueError> {
    let queue =
        elf_resilience::RedisQueue::open(url, prefix).map_err(|e| QueueError::Backend(e.to_string()))?;
    Ok(Arc::new(queue))
}

#[cfg(not(feature = "redis"))]
fn open_redis_queue(_: &str, _: &str) -> Result<Arc<dyn RequestQueue>, QueueError> {
    Err(QueueError::Backend("this binary was built without the redis feature".into()))
}

fn redis_check(stores: &Stores) -> HealthCheckBuilder {
    let queue = stores.queue.clone();
    storage_redis(move || Ok(queue.clone()))
}

/// `storage:redis` over the queue `queue` gives (opened for the run, or the server's own).
fn storage_redis(
    queue: impl Fn() -> Result<Arc<dyn RequestQueue>, QueueError> + Clone + Send + Sync + 'static,
) -> HealthCheckBuilder {
    HealthCheck::builder("storage:redis", move || {
        let queue = queue.clone();
        async move {
            let answered = detached(move || queue()?.list(Some(TicketStatus::Leased), 1)).await;
            match answered {
                Ok(Ok(_)) => CheckOutcome::healthy("redis answers"),
                Ok(Err(e)) => CheckOutcome::unhealthy(format!("redis unreachable: {e}")),
                Err(e) => CheckOutcome::unhealthy(e.to_string()),
            }
        }
    })
}

/// Runs `f` on a thread of its own and waits for its answer. Unlike the blocking pool, a thread
/// still stuck when the check has timed out (Redis stalled: up to its 5 s connect and I/O
/// timeouts) keeps no runtime from shutting down, so the `health` command exits at once.
async fn detached<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::sync::oneshot::error::RecvError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await
}

/// `storage:sqlite`: whether the data directory takes a write (a page, synced), so that a full
/// disk shows on `/health` before, not only after, the queue and the usage ledger fail.
fn sqlite_check(dir: PathBuf) -> HealthCheckBuilder {
    HealthCheck::builder("storage:sqlite", move || {
        let dir = dir.clone();
        async move {
            let shown = dir.display().to_string();
            match tokio::task::spawn_blocking(move || probe_write(&dir)).await {
                Ok(Ok(())) => CheckOutcome::healthy(format!("{shown} takes writes")),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::StorageFull => {
                    CheckOutcome::unhealthy(format!(
                        "disk full: {shown} has no space left ({e}); queue and usage writes fail until space is freed"
                    ))
                }
                Ok(Err(e)) => CheckOutcome::unhealthy(format!("{shown} takes no writes: {e}")),
                Err(e) => CheckOutcome::unhealthy(format!("sqlite check failed: {e}")),
            }
        }
    })
}

/// Writes one SQLite page's worth to a scratch file in `dir`, synced, and removes it.
fn probe_write(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(format!(".health-probe.{}", std::process::id()));
    let written = std::fs::File::create(&path).and_then(|mut f| {
        std::io::Write::write_all(&mut f, &[0u8; 4096])?;
        f.sync_all()
    });
    let removed = std::fs::remove_file(&path);
    written.and(removed.or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) }))
}

fn configured(
    c: &HealthCheckConfig,
    rm: &ResourceManager,
    defaults: impl Fn(HealthCheckBuilder) -> HealthCheckBuilder,
) -> anyhow::Result<HealthCheckBuilder> {
    let b = match c.kind {
        CheckKind::Http => http_check(&c.name, c.target.clone()),
        CheckKind::Tcp => tcp_check(&c.name, c.target.clone()),
        CheckKind::Resource => {
            let ty: ResourceType = c.target.parse().context("resource check target")?;
            resource_check(&c.name, ty, rm, c.critical)
        }
    };
    let b = defaults(b).critical(c.critical);
    let b = match c.interval {
        Some(i) => b.interval(i.0),
        None => b,
    };
    Ok(match c.timeout {
        Some(t) => b.timeout(t.0),
        None => b,
    })
}

/// A check reading the resource manager: healthy below warning, degraded at warning or when
/// unknown, unhealthy when critical or exhausted.
fn resource_check(name: &str, ty: ResourceType, rm: &ResourceManager, critical: bool) -> HealthCheckBuilder {
    let rm = rm.clone();
    HealthCheck::builder(name, move || {
        let rm = rm.clone();
        async move {
            rm.refresh(ty).await;
            let r = rm.resource_summary(ty, Duration::ZERO);
            let msg = format!("{ty} {} at {:.1}%", r.status, r.usage_percent);
            let msg = r.why().map_or(msg.clone(), |why| format!("{msg}: {why}"));
            let outcome = match r.status {
                ResourceStatus::Healthy => CheckOutcome::healthy(msg),
                s if s.is_pressured() => CheckOutcome::unhealthy(msg),
                _ => CheckOutcome::degraded(msg),
            };
            outcome.with_observed(r.usage_percent, "percent")
        }
    })
    .measurement("utilization")
    .component_type("system")
    .critical(critical)
}

fn disk_check() -> HealthCheckBuilder {
    HealthCheck::builder("disk", || async {
        let used =
            tokio::task::spawn_blocking(|| SystemSummary::current().disk_usage_percent).await.unwrap_or(0.0);
        let msg = format!("disk {used:.1}% used");
        let outcome = match used {
            u if u >= DISK_LEVELS.1 => CheckOutcome::unhealthy(msg),
            u if u >= DISK_LEVELS.0 => CheckOutcome::degraded(msg),
            _ => CheckOutcome::healthy(msg),
        };
        outcome.with_observed(used, "percent")
    })
    .measurement("utilization")
    .component_type("system")
}

fn http_check(name: &str, url: String) -> HealthCheckBuilder {
    let client = reqwest::Client::new();
    HealthCheck::builder(name, move || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let started = std::time::Instant::now();
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => {
                    CheckOutcome::healthy(format!("HTTP {}", r.status().as_u16()))
                }
                Ok(r) => CheckOutcome::unhealthy(format!("HTTP {}", r.status().as_u16())),
                Err(e) => CheckOutcome::unhealthy(format!("request failed: {}", without_url(&e))),
            }
            .with_observed(started.elapsed().as_secs_f64() * 1000.0, "ms")
        }
    })
    .measurement("responseTime")
    .component_type("component")
}

/// reqwest's error text without the URL (which may carry credentials).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "error"
    };
    kind.to_owned()
}

fn tcp_check(name: &str, addr: String) -> HealthCheckBuilder {
    HealthCheck::builder(name, move || {
        let addr = addr.clone();
        async move {
            let started = std::time::Instant::now();
            match tokio::net::TcpStream::connect(&addr).await {
                Ok(_) => CheckOutcome::healthy(format!("connected to {addr}")),
                Err(e) => CheckOutcome::unhealthy(format!("cannot connect to {addr}: {e}")),
            }
            .with_observed(started.elapsed().as_secs_f64() * 1000.0, "ms")
        }
    })
    .measurement("connectTime")
    .component_type("component")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wiring::{quota_tracker, resource_manager};
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn a_checks_own_timeout_wins_over_the_default() {
        // Accepts connections (the backlog) and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let toml = format!(
            "[health]\ndefault_checks = false\n[[health.checks]]\nname = \"api\"\nkind = \"http\"\ntarget = \"http://{addr}/health\"\ntimeout = \"2s\"\n"
        );
        let config = Config::parse(&toml, std::path::Path::new("test.toml")).unwrap();
        let ledger = Arc::new(elf_resilience::InMemoryLedger::new());
        let rm = resource_manager(&config, quota_tracker(&config, ledger).unwrap()).unwrap();
        let monitor = HealthMonitor::default();
        register(&monitor, &config, &rm, 1).unwrap();
        let r = monitor.run_check_now("api").await.unwrap();
        assert_eq!(r.message, "timed out after 2s");
    }
}
