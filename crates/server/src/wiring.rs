//! Turning the config into running parts: the stores (see [`crate::stores`]), the resource manager
//! with its probes and quota tracker, the health monitor with its alert sinks.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use elf_resilience::probes::{HttpProbe, McpProbe, PostgresProbe, SqliteProbe, TcpProbe};
use elf_resilience::{
    HealthMonitor, LogSink, QuotaLimit, QuotaTracker, QuotaWindow, ResourceManager, ResourceManagerBuilder,
    ResourceType, UsageLedger, WebhookSink,
};

use crate::config::{AlertSink, Config, PROBE_INTERVAL, PROBE_TIMEOUT, Secret, Threshold, Window};

/// How much later than a probe's own timeout the manager cuts a sample short, so that a probe
/// that keeps its timeout itself reports it (critical, "timed out after N ms") and ends what it
/// started (an MCP stdio server's processes) before the cut.
const PROBE_SLACK: Duration = Duration::from_secs(1);
/// The environment variable that may hold the server token.
pub const TOKEN_ENV: &str = "ELF_RESILIENCE_TOKEN";

/// The quota tracker over the ledger, with the configured limits.
pub fn quota_tracker(config: &Config, ledger: Arc<dyn UsageLedger>) -> anyhow::Result<Arc<QuotaTracker>> {
    let mut b = QuotaTracker::builder(ledger);
    for q in &config.models.quotas {
        let window = match q.window {
            Window::Minute => QuotaWindow::Minute,
            Window::Hour => QuotaWindow::Hour,
            Window::Day => QuotaWindow::Day,
        };
        let mut limit = QuotaLimit::new(window).model(q.model.clone());
        if q.team != "*" {
            limit = limit.team(q.team.clone());
        }
        limit.max_tokens = q.tokens;
        limit.max_requests = q.requests;
        b = b.limit(limit);
    }
    Ok(Arc::new(b.build().context("quota limits")?))
}

/// The resource manager: thresholds, probes, alternatives and the quota source.
pub fn resource_manager(config: &Config, quota: Arc<QuotaTracker>) -> anyhow::Result<ResourceManager> {
    let interval = config.probes.interval.map_or(PROBE_INTERVAL, |d| d.0);
    let timeout = config.probes.timeout.map_or(PROBE_TIMEOUT, |d| d.0);
    let mut b = thresholds(ResourceManager::builder(), config);
    b = b.quota_source(quota.clone()).probe_every(
        elf_resilience::ApiQuotaProbe::new(quota),
        interval,
        timeout,
    );
    b = configured_probes(b.default_probes(), config, interval, timeout)?;
    for (model, alts) in &config.models.alternatives {
        b = b.model_alternatives(model, alts.iter().map(String::as_str));
    }
    for d in &config.probes.databases {
        b = b.database_alternatives(&d.name, d.alternatives.iter().map(String::as_str));
    }
    for e in &config.probes.endpoints {
        b = b.endpoint_alternatives(&e.name, e.alternatives.iter().map(String::as_str));
    }
    b.build().context("resource manager")
}

/// The databases and endpoints of the config, each with its own interval and timeout.
fn configured_probes(
    mut b: ResourceManagerBuilder,
    config: &Config,
    interval: Duration,
    timeout: Duration,
) -> anyhow::Result<ResourceManagerBuilder> {
    let every = |i: Option<crate::config::HumanDuration>| i.map_or(interval, |d| d.0);
    for d in &config.probes.databases {
        let (i, t) = (every(d.interval), d.timeout.map_or(timeout, |d| d.0));
        let url = d.url.0.expose();
        b = match url.strip_prefix("sqlite://") {
            Some(path) => b.probe_every(SqliteProbe::new(&d.name, path), i, t),
            None => b.probe_every(
                PostgresProbe::new(&d.name, url)
                    .map_err(|e| anyhow::anyhow!("database `{}`: {e}", d.name))?
                    .connect_timeout(t),
                i,
                t + PROBE_SLACK,
            ),
        };
    }
    for e in &config.probes.endpoints {
        let (i, t) = (every(e.interval), e.timeout.map_or(timeout, |d| d.0));
        b = match (&e.url, &e.tcp) {
            (Some(url), _) => b.probe_every(
                HttpProbe::with_timeout(&e.name, url.0.expose(), t)
                    .map_err(|err| anyhow::anyhow!("endpoint `{}`: {err}", e.name))?,
                i,
                t,
            ),
            (None, Some(addr)) => b.probe_every(TcpProbe::new(&e.name, addr.clone()).timeout(t), i, t),
            (None, None) => b,
        };
    }
    for m in &config.probes.mcp_servers {
        let (i, t) = (every(m.interval), m.timeout.map_or(timeout, |d| d.0));
        let probe = match (&m.url, m.command.as_deref()) {
            (Some(url), _) => McpProbe::http(&m.name, url.0.expose()),
            (None, Some([cmd, args @ ..])) => McpProbe::stdio(&m.name, cmd.clone(), args.iter().cloned()),
            (None, _) => continue,
        };
        b = b.probe_every(probe.timeout(t), i, t + PROBE_SLACK);
    }
    Ok(b)
}

fn thresholds(mut b: ResourceManagerBuilder, config: &Config) -> ResourceManagerBuilder {
    for (ty, th) in threshold_pairs(config) {
        if let Some(th) = th {
            b = b.thresholds(ty, th.warning.0, th.critical.0);
        }
    }
    b
}

/// The configured thresholds of every resource type (`None`: the built-in default).
fn threshold_pairs(config: &Config) -> [(ResourceType, Option<Threshold>); 8] {
    let t = &config.thresholds;
    [
        (ResourceType::ApiQuota, t.api_quota),
        (ResourceType::Memory, t.memory),
        (ResourceType::Cpu, t.cpu),
        (ResourceType::Database, t.database),
        (ResourceType::McpServer, t.mcp_server),
        (ResourceType::Network, t.network),
        (ResourceType::Docker, t.docker),
        (ResourceType::K8sPod, t.k8s_pod),
    ]
}

/// The health monitor with a log sink and the configured webhooks.
pub fn health_monitor(config: &Config) -> HealthMonitor {
    let mut b = HealthMonitor::builder().sink(LogSink);
    for sink in &config.alerts {
        if let AlertSink::Webhook { url, timeout } = sink {
            let webhook = WebhookSink::new(url.0.expose());
            b = b.sink(match timeout {
                Some(t) => webhook.timeout(t.0),
                None => webhook,
            });
        }
    }
    b.build()
}

/// The server token: from the config, else `$ELF_RESILIENCE_TOKEN`, else `token` in the data
/// directory (created with a random value, readable by the owner only).
pub fn token(config: &Config, dir: &Path) -> anyhow::Result<Secret> {
    if let Some(t) = &config.server.token {
        return Ok(t.clone());
    }
    if let Some(t) = std::env::var(TOKEN_ENV).ok().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        return Ok(Secret::new(t));
    }
    let path = dir.join("token");
    if let Some(t) = read_token(&path)? {
        return Ok(t);
    }
    std::fs::create_dir_all(dir)?;
    publish_token(dir, &path, &random_token()).with_context(|| format!("writing {}", path.display()))
}

/// The token in `path`; `None` when there is no file yet.
fn read_token(path: &Path) -> anyhow::Result<Option<Secret>> {
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => Ok(Some(Secret::new(t.trim()))),
        Ok(_) => anyhow::bail!("{} is empty: delete it to have a new token made", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes `token` whole to a private temporary file and links it in as `path`, so a process
/// starting at the same moment reads either no file or the whole token; when another process
/// linked its token first, that one is used.
fn publish_token(dir: &Path, path: &Path, token: &str) -> std::io::Result<Secret> {
    let staged = dir.join(format!(".token.{}.{}", std::process::id(), fastrand::u64(..)));
    write_private(&staged, token)?;
    let linked = std::fs::hard_link(&staged, path);
    std::fs::remove_file(&staged)?;
    match linked {
        Ok(()) => Ok(Secret::new(token)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(Secret::new(std::fs::read_to_string(path)?.trim()))
        }
        Err(e) => Err(e),
    }
}

/// 32 hex characters from the OS's random source.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    let from_os =
        std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if from_os.is_err() {
        bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_TOML;

    #[test]
    fn processes_starting_together_agree_on_one_whole_token() {
        let config = Config::parse("", std::path::Path::new("empty.toml")).unwrap();
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let start = std::sync::Arc::new(std::sync::Barrier::new(8));
            let makers: Vec<_> = (0..8)
                .map(|_| {
                    let (config, dir, start) = (config.clone(), dir.path().to_owned(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        token(&config, &dir).map(|t| t.expose().to_owned()).map_err(|e| format!("{e:#}"))
                    })
                })
                .collect();
            let tokens: Vec<_> = makers.into_iter().map(|m| m.join().unwrap().unwrap()).collect();
            assert_eq!(tokens[0].len(), 32, "{tokens:?}");
            assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
            let left: Vec<_> =
                std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(left, ["token"], "no staged file is left");
        }
    }

    #[test]
    fn config_default_prints_the_built_in_thresholds() {
        let config = Config::parse(DEFAULT_TOML, std::path::Path::new("default.toml")).unwrap();
        let built_in = elf_resilience::Thresholds::default();
        for (ty, th) in threshold_pairs(&config) {
            let th = th.unwrap_or_else(|| panic!("`config default` lists {ty}"));
            let want = built_in.get(ty);
            assert_eq!((th.warning.0, th.critical.0), (want.warning, want.critical), "{ty}");
        }
    }
}
