//! Values that parse but can never work: an allowed host written as a URL, a model that is its
//! own alternative, a quota for no team, a probe whose timeout outlasts its interval, a loop that
//! would spin, a cache that may hold nothing, a token that no request can match.

use std::net::IpAddr;
use std::time::Duration;

use super::limits::{PROBE_INTERVAL, PROBE_TIMEOUT};
use super::{Config, ConfigError, HumanDuration};

/// The shortest interval of `serve`'s loops (probes, replay, breaker publishing, eviction).
pub const MIN_LOOP_INTERVAL: Duration = Duration::from_millis(10);

type At<'a> = &'a dyn Fn(&str, String) -> ConfigError;

impl Config {
    pub(super) fn check_coherence(&self, at: At<'_>) -> Result<(), ConfigError> {
        self.check_hosts(at)?;
        self.check_models(at)?;
        self.check_probe_timeouts(at)?;
        self.check_loops(at)?;
        if self.storage.cache_max_entries == Some(0) {
            return Err(at("cache_max_entries", "expected cache_max_entries of at least 1".into()));
        }
        if let Some(token) = &self.server.token {
            let t = token.expose();
            if t.trim() != t {
                return Err(at(
                    "token",
                    "expected a token without leading or trailing whitespace (no request could carry it)"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    fn check_hosts(&self, at: At<'_>) -> Result<(), ConfigError> {
        for host in &self.server.allowed_hosts {
            if !is_host_name(host) {
                return Err(at(
                    host,
                    format!(
                        "expected a host name like \"elf.internal\" (no scheme, port or path) in allowed_hosts, found {host:?}"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_models(&self, at: At<'_>) -> Result<(), ConfigError> {
        for (model, alternatives) in &self.models.alternatives {
            if alternatives.iter().any(|a| a == model) {
                return Err(at(
                    "alternatives",
                    format!("model `{model}`: expected alternatives other than the model itself"),
                ));
            }
        }
        for q in &self.models.quotas {
            if q.team.trim().is_empty() {
                return Err(at(
                    "team",
                    format!("quota for `{}`: expected a team name, or \"*\" for every team", q.model),
                ));
            }
            if q.model.trim().is_empty() {
                return Err(at("model", "quota: expected a model name".into()));
            }
        }
        Ok(())
    }

    /// A sample that may take longer than the pause between samples piles up.
    fn check_probe_timeouts(&self, at: At<'_>) -> Result<(), ConfigError> {
        let p = &self.probes;
        let base = (p.interval.map_or(PROBE_INTERVAL, |d| d.0), p.timeout.map_or(PROBE_TIMEOUT, |d| d.0));
        let own = p
            .databases
            .iter()
            .map(|d| (d.name.as_str(), d.interval, d.timeout))
            .chain(p.endpoints.iter().map(|e| (e.name.as_str(), e.interval, e.timeout)))
            .chain(p.mcp_servers.iter().map(|m| (m.name.as_str(), m.interval, m.timeout)));
        let mut pairs = vec![("[probes]", None, None)];
        pairs.extend(own);
        for (name, interval, timeout) in pairs {
            let (i, t) = (interval.map_or(base.0, |d| d.0), timeout.map_or(base.1, |d| d.0));
            if t >= i {
                return Err(at(
                    "timeout",
                    format!("{name}: expected a probe timeout ({t:?}) shorter than its interval ({i:?})"),
                ));
            }
        }
        Ok(())
    }

    fn check_loops(&self, at: At<'_>) -> Result<(), ConfigError> {
        let loops: [(&str, Option<HumanDuration>); 4] = [
            ("interval", self.probes.interval),
            ("interval", self.queue.interval),
            ("publish_interval", self.breakers.publish_interval),
            ("cache_evict_interval", self.storage.cache_evict_interval),
        ];
        for (key, value) in loops {
            if let Some(d) = value.filter(|d| d.0 < MIN_LOOP_INTERVAL) {
                return Err(at(
                    key,
                    format!("expected {key} of at least {MIN_LOOP_INTERVAL:?}, found {:?}", d.0),
                ));
            }
        }
        Ok(())
    }
}

/// A bare host name or IP address: no scheme, port, path or spaces.
fn is_host_name(host: &str) -> bool {
    let h = host.trim();
    if h.is_empty() || h.contains(['/', ' ', '@', '?', '#']) {
        return false;
    }
    h.parse::<IpAddr>().is_ok() || !h.contains(':')
}

#[cfg(test)]
mod tests {
    use super::is_host_name;

    #[test]
    fn host_names_are_bare() {
        for ok in ["elf.internal", "::1", "10.0.0.7", "Dashboard.Example"] {
            assert!(is_host_name(ok), "{ok}");
        }
        for bad in ["", "http://elf.internal", "elf.internal:8686", "elf.internal/x", "a b", "u@h"] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }
}
