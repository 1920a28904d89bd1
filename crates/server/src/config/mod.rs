//! The `elf-resilience.toml` file: every part optional, every value checked while parsing, and
//! errors that name `file:line:col`.

mod coherence;
mod error;
mod health;
mod limits;
pub use coherence::MIN_LOOP_INTERVAL;
pub use limits::{
    DROP_AFTER, HANDLER_TIMEOUT, LEASE_FOR, MAX_RETRY_IN, MIN_HEALTH_INTERVAL, MIN_TOKEN_LEN, PROBE_INTERVAL,
    PROBE_TIMEOUT, RETRY_IN, SHUTDOWN_GRACE, STALE_AFTER,
};
mod probes;
mod runtime;
mod serving;
pub use serving::{BODY_TIMEOUT, HEADER_TIMEOUT, MAX_BODY_BYTES, STORAGE_TIMEOUT};
mod types;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use error::ConfigError;
use health::check_host_port;
pub use health::{AlertSink, CheckKind, Health, HealthCheckConfig};
pub use probes::{DatabaseProbe, EndpointProbe, McpProbe, Models, Probes, Quota, Window};
pub use runtime::{Breakers, Queue, QueueHandler};
pub use types::{
    Bind, DatabaseUrl, HttpUrl, HumanDuration, Percent, RedisUrl, Secret, Url, format_duration,
    parse_duration,
};

/// The file name looked for in the current directory when no path is given.
pub const DEFAULT_FILE: &str = "elf-resilience.toml";
/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "ELF_RESILIENCE_CONFIG";
/// The Redis key prefix unless `[storage] redis_prefix` says otherwise.
pub const DEFAULT_REDIS_PREFIX: &str = "elf-resilience";
/// The default config, with comments: what `config default` prints.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Warning and critical thresholds per resource type.
    pub thresholds: Thresholds,
    /// What to measure.
    pub probes: Probes,
    /// Models, their alternatives, and quotas per team.
    pub models: Models,
    /// Health checks.
    pub health: Health,
    /// Where alerts go.
    pub alerts: Vec<AlertSink>,
    /// Where state is kept.
    pub storage: Storage,
    /// The HTTP server.
    pub server: Server,
    /// Replay of queued requests.
    pub queue: Queue,
    /// Breakers shared between processes.
    pub breakers: Breakers,
}

/// Warning and critical levels, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Threshold {
    /// At or above: warning.
    pub warning: Percent,
    /// At or above: critical.
    pub critical: Percent,
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            warning: Percent,
            critical: Percent,
        }
        let raw = Raw::deserialize(d)?;
        if raw.warning.0 >= raw.critical.0 {
            return Err(serde::de::Error::custom(format!(
                "expected warning below critical, found warning = {} and critical = {}",
                raw.warning.0, raw.critical.0
            )));
        }
        Ok(Self { warning: raw.warning, critical: raw.critical })
    }
}

/// Thresholds per resource type; a type left out keeps its built-in default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Thresholds {
    pub api_quota: Option<Threshold>,
    pub memory: Option<Threshold>,
    pub cpu: Option<Threshold>,
    pub database: Option<Threshold>,
    pub mcp_server: Option<Threshold>,
    pub network: Option<Threshold>,
    pub docker: Option<Threshold>,
    pub k8s_pod: Option<Threshold>,
}

/// Where state is kept.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Storage {
    /// The directory for the SQLite files. Default `./.elf-resilience`.
    pub data_dir: Option<PathBuf>,
    /// A `redis://` URL: the queue, the cache and the shared breaker state go there instead of
    /// SQLite (the usage ledger stays in SQLite). Needs the `redis` feature.
    pub redis_url: Option<RedisUrl>,
    /// The first part of every Redis key: `PREFIX:queue`, `PREFIX:cache`, `PREFIX:breakers`.
    /// Default `elf-resilience`.
    pub redis_prefix: Option<String>,
    /// How long usage history is kept. Default 30 days.
    pub retention: Option<HumanDuration>,
    /// How long past its TTL a cached answer is kept (and may be served stale). Default 1 day.
    pub cache_max_staleness: Option<HumanDuration>,
    /// At most this many cached answers; the oldest go first. Default: no bound.
    pub cache_max_entries: Option<usize>,
    /// How often `serve` evicts the cache. Default 5 min.
    pub cache_evict_interval: Option<HumanDuration>,
    /// How long one storage call of an HTTP request may take before the request gets 503
    /// naming the store. Default 2 s.
    pub timeout: Option<HumanDuration>,
}

impl Storage {
    /// The data directory, defaulted.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| PathBuf::from(".elf-resilience"))
    }

    /// The Redis key prefix, defaulted.
    pub fn redis_prefix(&self) -> &str {
        self.redis_prefix.as_deref().unwrap_or(DEFAULT_REDIS_PREFIX)
    }
}

/// The HTTP server.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    /// The listen address. Default `127.0.0.1:8686`.
    pub bind: Option<Bind>,
    /// The bearer token for the write endpoints. Default: `ELF_RESILIENCE_TOKEN`, else a random
    /// one written to `token` in the data directory.
    pub token: Option<Secret>,
    /// Host names (without port) the server answers besides loopback names and its own
    /// address. A server bound to loopback answers only those; one bound elsewhere with an
    /// empty list answers any host.
    pub allowed_hosts: Vec<String>,
    /// Lets `bind` be a public (non-loopback) address without a `token` in the config (the
    /// token then comes from `$ELF_RESILIENCE_TOKEN` or the generated one). Default false: a
    /// public server needs a configured token.
    pub allow_public: bool,
    /// How long a client may take to send a request's headers before the connection is
    /// closed. Default 10 s.
    pub header_timeout: Option<HumanDuration>,
    /// How long a client may take to send a request's body. Default 30 s.
    pub body_timeout: Option<HumanDuration>,
    /// The largest request body accepted; a larger one gets 413 unread. Default 1 MiB.
    pub max_body_bytes: Option<usize>,
    /// Origins (`https://app.example.com`) a browser page may call the API from. Default
    /// none: no CORS headers are sent.
    pub cors_origins: Vec<String>,
    /// How long `serve` takes at most to stop on SIGTERM or SIGINT: deliveries in flight get
    /// most of it to finish, then are cancelled and released. Default 10 s.
    pub shutdown_grace: Option<HumanDuration>,
}

impl Server {
    /// How long a stop may take, defaulted.
    pub fn shutdown_grace(&self) -> std::time::Duration {
        self.shutdown_grace.map_or(SHUTDOWN_GRACE, |d| d.0)
    }

    /// The listen address, defaulted.
    pub fn bind(&self) -> std::net::SocketAddr {
        self.bind.map_or_else(|| ([127, 0, 0, 1], 8686).into(), |b| b.0)
    }

    /// Whether the server may listen on `bind`: loopback always, a public address only with a
    /// configured token or `allow_public`.
    pub fn may_listen_on(&self, bind: std::net::SocketAddr) -> bool {
        bind.ip().is_loopback() || self.token.is_some() || self.allow_public
    }
}

impl Config {
    /// Parses `text`, naming `origin` in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::from_toml(origin, text, &e))?;
        config.check(origin, text)?;
        config.storage.check_redis(cfg!(feature = "redis"), origin, text)?;
        Ok(config)
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.to_owned(), reason: e.to_string() })?;
        Self::parse(&text, path)
    }

    /// Finds the config: `explicit`, else `$ELF_RESILIENCE_CONFIG`, else `./elf-resilience.toml`
    /// when present, else the defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<(Self, Option<PathBuf>), ConfigError> {
        let env = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        let path = explicit.map(Path::to_path_buf).or(env);
        match path {
            Some(p) => Ok((Self::load(&p)?, Some(p))),
            None if Path::new(DEFAULT_FILE).exists() => {
                let p = PathBuf::from(DEFAULT_FILE);
                Ok((Self::load(&p)?, Some(p)))
            }
            None => Ok((Self::default(), None)),
        }
    }

    /// Checks that need more than one value: probe targets, duplicate names, check targets.
    fn check(&self, origin: &Path, text: &str) -> Result<(), ConfigError> {
        let at = |needle: &str, msg: String| ConfigError::at_text(origin, text, needle, msg);
        for e in &self.probes.endpoints {
            if e.url.is_some() == e.tcp.is_some() {
                return Err(at(
                    &e.name,
                    format!("endpoint `{}`: expected exactly one of `url` or `tcp`", e.name),
                ));
            }
            if let Some(t) = &e.tcp {
                check_host_port(t).map_err(|m| at(t, m))?;
            }
        }
        for m in &self.probes.mcp_servers {
            let ok = m.url.is_some() != m.command.as_ref().is_some_and(|c| !c.is_empty());
            if !ok {
                return Err(at(
                    &m.name,
                    format!("MCP server `{}`: expected exactly one of `command` or `url`", m.name),
                ));
            }
        }
        self.check_names(&at)?;
        self.check_handlers(&at)?;
        self.check_limits(&at)?;
        self.check_coherence(&at)?;
        for c in &self.health.checks {
            c.check_target().map_err(|m| at(&c.target, m))?;
        }
        for q in &self.models.quotas {
            if q.tokens.is_none() && q.requests.is_none() {
                return Err(at(
                    &q.model,
                    format!("quota for `{}`: expected `tokens` or `requests`", q.model),
                ));
            }
        }
        Ok(())
    }

    fn check_names(&self, at: &dyn Fn(&str, String) -> ConfigError) -> Result<(), ConfigError> {
        let names = self
            .probes
            .databases
            .iter()
            .map(|d| &d.name)
            .chain(self.probes.endpoints.iter().map(|e| &e.name))
            .chain(self.probes.mcp_servers.iter().map(|m| &m.name))
            .chain(self.health.checks.iter().map(|c| &c.name));
        let mut seen = std::collections::HashSet::new();
        for n in names {
            if n.trim().is_empty() {
                return Err(at("name", "expected a non-empty name".into()));
            }
            if !seen.insert(n) {
                return Err(at(n, format!("expected unique names, found `{n}` twice")));
            }
        }
        Ok(())
    }
}

impl Config {
    fn check_handlers(&self, at: &dyn Fn(&str, String) -> ConfigError) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for h in &self.queue.handlers {
            if h.name.trim().is_empty() {
                return Err(at("name", "queue handler: expected a non-empty name".into()));
            }
            if !seen.insert(&h.name) {
                return Err(at(
                    &h.name,
                    format!("expected unique queue handler names, found `{}` twice", h.name),
                ));
            }
            h.resource_type().map_err(|m| at(h.resource.as_deref().unwrap_or(&h.name), m))?;
        }
        Ok(())
    }
}

impl Storage {
    /// Rejects a `redis_url` the binary cannot use, and an empty `redis_prefix`.
    fn check_redis(&self, with_redis: bool, origin: &Path, text: &str) -> Result<(), ConfigError> {
        if self.redis_url.is_some() && !with_redis {
            return Err(ConfigError::at_key(
                origin,
                text,
                "redis_url",
                "`redis_url`: this binary was built without the redis feature; rebuild with \
                 `--features redis`, or remove `redis_url` to keep the queue and cache in SQLite"
                    .into(),
            ));
        }
        if self.redis_prefix.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return Err(ConfigError::at_key(
                origin,
                text,
                "redis_prefix",
                "expected a non-empty prefix".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_parses_to_the_defaults() {
        let parsed = Config::parse(DEFAULT_TOML, Path::new("default.toml")).unwrap();
        assert_eq!(parsed.server.bind(), "127.0.0.1:8686".parse().unwrap());
        assert_eq!(parsed.storage.data_dir(), PathBuf::from(".elf-resilience"));
        assert!(parsed.probes.databases.is_empty());
    }

    #[test]
    fn a_redis_url_without_the_feature_is_an_error_at_its_key() {
        let text = "[storage]\n# redis_url = \"redis://old\"\n  redis_url = \"redis://127.0.0.1:6379\"\n";
        let config = Config::parse(text, Path::new("r.toml"));
        assert_eq!(config.is_ok(), cfg!(feature = "redis"), "{config:?}");
        let storage: Config = toml::from_str(text).unwrap();
        let err = storage.storage.check_redis(false, Path::new("r.toml"), text).unwrap_err().to_string();
        assert!(err.starts_with("r.toml:3:3: "), "{err}");
        assert!(err.contains("built without the redis feature"), "{err}");
        storage.storage.check_redis(true, Path::new("r.toml"), text).unwrap();
    }

    #[test]
    fn without_a_redis_url_the_feature_does_not_matter() {
        let text = "[storage]\nredis_prefix = \"app\"\n";
        let config = Config::parse(text, Path::new("r.toml")).unwrap();
        config.storage.check_redis(false, Path::new("r.toml"), text).unwrap();
        assert_eq!(config.storage.redis_prefix(), "app");
        assert_eq!(Config::default().storage.redis_prefix(), DEFAULT_REDIS_PREFIX);
    }

    #[test]
    fn an_empty_file_is_the_default() {
        assert_eq!(Config::parse("", Path::new("x.toml")).unwrap(), Config::default());
    }
}
