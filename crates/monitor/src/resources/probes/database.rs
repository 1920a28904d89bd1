//! The PostgreSQL probe: connection slots in use and `SELECT 1` latency.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use elf_resilience_core::ResourceType;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tokio_postgres::{Client, Config, NoTls};

use super::cause::chain;
use super::network::down;
use crate::resources::{BoxFuture, Probe, ProbeError, Sample};

/// Client backends other than this probe's own, and the slots open to ordinary roles.
/// `reserved_connections` exists from PostgreSQL 16; `current_setting(_, true)` is NULL before.
const SLOTS_SQL: &str = "SELECT \
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()), \
    current_setting('max_connections')::bigint, \
    current_setting('superuser_reserved_connections')::bigint, \
    coalesce(current_setting('reserved_connections', true), '0')::bigint";

/// Why a database probe could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseProbeError {
    /// The connection string does not parse (its text is not repeated: it may hold a password).
    #[error("invalid PostgreSQL connection string")]
    InvalidDsn,
}

/// Measures a PostgreSQL server: usage is the client backends (other than its own) over the
/// connection slots open to ordinary roles, `max_connections − superuser_reserved_connections
/// − reserved_connections`; `SELECT 1` latency is a metric. It keeps one connection between
/// samples and reconnects when it drops.
///
/// A server that refuses the connection, rejects the login, lacks the database, fails a query
/// or does not answer within the timeout is down: the sample reads `Critical` (usage 100 %)
/// and its detail says why, in the server's own words where it gave any.
///
/// The password in the connection string never appears in its name, `Debug`, details or errors.
///
/// ```
/// use elf_resilience_monitor::Probe;
/// use elf_resilience_monitor::probes::PostgresProbe;
///
/// let probe = PostgresProbe::new("main", "postgres://app:s3cret@127.0.0.1:5432/app").unwrap();
/// assert_eq!(probe.name(), "postgres:main");
/// assert!(!format!("{probe:?}").contains("s3cret"));
/// ```
pub struct PostgresProbe {
    name: String,
    config: Config,
    shown: String,
    timeout: Duration,
    client: Mutex<Option<Client>>,
}

impl fmt::Debug for PostgresProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresProbe").field("name", &self.name).field("server", &self.shown).finish()
    }
}

impl PostgresProbe {
    /// A probe named `name` for the server at `dsn` (URL or key=value form), with a 5 s
    /// connect timeout.
    pub fn new(name: &str, dsn: &str) -> Result<Self, DatabaseProbeError> {
        let mut config = Config::from_str(dsn).map_err(|_| DatabaseProbeError::InvalidDsn)?;
        let timeout = Duration::from_secs(5);
        config.connect_timeout(timeout);
        let shown = describe(&config);
        Ok(Self { name: format!("postgres:{name}"), config, shown, timeout, client: Mutex::new(None) })
    }

    /// How long a sample (connecting when needed, then the queries) may take before the
    /// server counts as down. Default 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout(timeout);
        self.timeout = timeout;
        self
    }

    async fn connect(&self) -> Result<Client, String> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(|e| self.why("connect", &e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "PostgreSQL probe connection closed");
            }
        });
        Ok(client)
    }

    /// One sample within the timeout. A server that refuses, rejects the login, lacks the
    /// database or does not answer in time is down (`Critical`), with the cause.
    async fn measure(&self) -> Result<Sample, ProbeError> {
        let mut slot = self.client.lock().await;
        let sampled = tokio::time::timeout(self.timeout, async {
            let client = match slot.take().filter(|c| !c.is_closed()) {
                Some(client) => client,
                None => self.connect().await?,
            };
            let sample = self.query(&client).await?;
            *slot = Some(client);
            Ok::<_, String>(sample)
        })
        .await;
        Ok(match sampled {
            Ok(Ok(sample)) => sample,
            Ok(Err(why)) => down(format!("{}: {why}", self.shown)),
            Err(_) => down(format!("{}: timed out after {} ms", self.shown, self.timeout.as_millis())),
        })
    }

    async fn query(&self, client: &Client) -> Result<Sample, String> {
        let start = Instant::now();
        client.simple_query("SELECT 1").await.map_err(|e| self.why("SELECT 1", &e))?;
        let latency_ms = start.elapsed().as_secs_f64() * 1e3;
        let row = client.query_one(SLOTS_SQL, &[]).await.map_err(|e| self.why("read slots", &e))?;
        let (used, max, su, reserved): (i64, i64, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let open = (max - su - reserved).max(1);
        let usage = used as f64 * 100.0 / open as f64;
        let detail = format!("{} — {used} of {open} connections, SELECT 1 in {latency_ms:.1} ms", self.shown);
        Ok(Sample::new(usage, detail)
            .with_metric("latency_ms", latency_ms)
            .with_metric("client_connections", used as f64)
            .with_metric("available_connections", open as f64)
            .with_metric("max_connections", max as f64))
    }

    /// What went wrong, from the server's own message or the error's causes, never with
    /// the password.
    fn why(&self, what: &str, e: &tokio_postgres::Error) -> String {
        let mut text = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => chain(e),
        };
        if let Some(pw) = self.config.get_password().filter(|p| !p.is_empty()) {
            text = text.replace(&*String::from_utf8_lossy(pw), "***");
        }
        format!("{what}: {text}")
    }
}

/// `user@host:port/db`, without the password.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("?");
    format!("{user}@{host}:{port}/{}", config.get_dbname().unwrap_or(user))
}

impl Probe for PostgresProbe {
    fn resource_type(&self) -> ResourceType {
        ResourceType::Database
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(self.measure())
    }
}
