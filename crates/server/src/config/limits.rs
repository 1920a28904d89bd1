//! Checks across fields that each parse on their own but together cannot work: a lease shorter
//! than a delivery, a health interval that would spin, breaker snapshots dropped before they go
//! stale, an empty data directory, a zero quota.

use std::time::Duration;

use super::{Config, ConfigError};

/// The shortest `[server] token` accepted: a shorter one can be guessed.
pub const MIN_TOKEN_LEN: usize = 16;
/// The shortest health-check interval accepted: anything shorter spins the monitor.
pub const MIN_HEALTH_INTERVAL: Duration = Duration::from_millis(100);
/// `[queue] lease_for` unless set.
pub const LEASE_FOR: Duration = Duration::from_secs(60);
/// `[queue] retry_in` unless set.
pub const RETRY_IN: Duration = Duration::from_secs(30);
/// `[queue] max_retry_in` unless set.
pub const MAX_RETRY_IN: Duration = Duration::from_secs(600);
/// `[server] shutdown_grace` unless set.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// A queue handler's `timeout` unless set.
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(30);
/// `[probes] interval` unless set.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(15);
/// `[probes] timeout` unless set.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// `[breakers] stale_after` unless set.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// `[breakers] drop_after` unless set.
pub const DROP_AFTER: Duration = Duration::from_secs(600);

type At<'a> = &'a dyn Fn(&str, String) -> ConfigError;

impl Config {
    pub(super) fn check_limits(&self, at: At<'_>) -> Result<(), ConfigError> {
        self.check_server(at)?;
        self.check_serving(at)?;
        self.check_databases(at)?;
        self.check_leases(at)?;
        self.check_retries(at)?;
        self.check_intervals(at)?;
        let stale = self.breakers.stale_after.map_or(STALE_AFTER, |d| d.0);
        let dropped = self.breakers.drop_after.map_or(DROP_AFTER, |d| d.0);
        if stale >= dropped {
            let needle = if self.breakers.drop_after.is_some() { "drop_after" } else { "stale_after" };
            return Err(at(
                needle,
                format!("expected stale_after ({stale:?}) below drop_after ({dropped:?})"),
            ));
        }
        if let Some(dir) = &self.storage.data_dir {
            if dir.as_os_str().is_empty() {
                return Err(at("data_dir", "expected a non-empty data_dir".into()));
            }
            if dir.exists() && !dir.is_dir() {
                return Err(at(
                    "data_dir",
                    format!("expected data_dir to be a directory, but {} is not", dir.display()),
                ));
            }
        }
        for q in &self.models.quotas {
            if q.tokens == Some(0) || q.requests == Some(0) {
                return Err(at(&q.model, format!("quota for `{}`: expected a limit above 0", q.model)));
            }
        }
        Ok(())
    }

    /// A token long enough not to be guessed; a public address only with a configured token
    /// or an explicit `allow_public`.
    fn check_server(&self, at: At<'_>) -> Result<(), ConfigError> {
        if let Some(token) = &self.server.token {
            let len = token.expose().chars().count();
            if len < MIN_TOKEN_LEN {
                return Err(at(
                    "token",
                    format!("expected a token of at least {MIN_TOKEN_LEN} characters, found {len}"),
                ));
            }
        }
        if self.server.bind.is_some_and(|b| !self.server.may_listen_on(b.0)) {
            return Err(at(
                "bind",
                "expected a `token` for a server on a public address (or `allow_public = true` to use \
                 $ELF_RESILIENCE_TOKEN or the generated one)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// A PostgreSQL URL the client library cannot read fails here, not when `serve` starts its
    /// probes.
    fn check_databases(&self, at: At<'_>) -> Result<(), ConfigError> {
        for d in &self.probes.databases {
            let url = d.url.0.expose();
            if url.starts_with("sqlite://") {
                continue;
            }
            if let Err(e) = elf_resilience::probes::PostgresProbe::new(&d.name, url) {
                return Err(at(url, format!("database `{}`: {e}", d.name)));
            }
        }
        Ok(())
    }

    /// A lease must outlast a delivery, or a slow handler's request is handed out twice.
    fn check_leases(&self, at: At<'_>) -> Result<(), ConfigError> {
        let lease = self.queue.lease_for.map_or(LEASE_FOR, |d| d.0);
        for h in &self.queue.handlers {
            let timeout = h.timeout.map_or(HANDLER_TIMEOUT, |d| d.0);
            if timeout >= lease {
                let needle = if self.queue.lease_for.is_some() { "lease_for" } else { "timeout" };
                return Err(at(
                    needle,
                    format!(
                        "expected [queue] lease_for ({lease:?}) longer than queue handler `{}`'s timeout ({timeout:?})",
                        h.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The wait between failed attempts grows from `retry_in` up to `max_retry_in` (which, unset,
    /// is 10 min or `retry_in` if that is longer).
    fn check_retries(&self, at: At<'_>) -> Result<(), ConfigError> {
        let first = self.queue.retry_in.map_or(RETRY_IN, |d| d.0);
        match self.queue.max_retry_in {
            Some(max) if max.0 < first => Err(at(
                "max_retry_in",
                format!("expected [queue] max_retry_in ({:?}) at least retry_in ({first:?})", max.0),
            )),
            _ => Ok(()),
        }
    }

    fn check_intervals(&self, at: At<'_>) -> Result<(), ConfigError> {
        let intervals =
            self.health.interval.iter().chain(self.health.checks.iter().filter_map(|c| c.interval.as_ref()));
        for i in intervals {
            if i.0 < MIN_HEALTH_INTERVAL {
                return Err(at(
                    "interval",
                    format!("expected a health interval of at least 100ms, found {:?}", i.0),
                ));
            }
        }
        Ok(())
    }
}
