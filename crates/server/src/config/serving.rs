//! The HTTP server's edges (`[server] header_timeout`, `body_timeout`, `max_body_bytes`,
//! `cors_origins`) and the time a request may spend in storage (`[storage] timeout`).

use std::time::Duration;

use super::{Config, ConfigError, Server, Storage};

/// `[server] header_timeout` unless set.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// `[server] body_timeout` unless set.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// `[server] max_body_bytes` unless set: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// `[storage] timeout` unless set.
pub const STORAGE_TIMEOUT: Duration = Duration::from_secs(2);

impl Server {
    /// How long a client may take to send a request's headers, defaulted.
    pub fn header_timeout(&self) -> Duration {
        self.header_timeout.map_or(HEADER_TIMEOUT, |d| d.0)
    }

    /// How long a client may take to send a request's body, defaulted.
    pub fn body_timeout(&self) -> Duration {
        self.body_timeout.map_or(BODY_TIMEOUT, |d| d.0)
    }

    /// The largest request body accepted, defaulted.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes.unwrap_or(MAX_BODY_BYTES)
    }
}

impl Storage {
    /// How long one storage call of an HTTP request may take, defaulted.
    pub fn timeout(&self) -> Duration {
        self.timeout.map_or(STORAGE_TIMEOUT, |d| d.0)
    }
}

impl Config {
    /// A body limit above zero, and CORS origins a browser sends: `scheme://host[:port]`.
    pub(super) fn check_serving(&self, at: &dyn Fn(&str, String) -> ConfigError) -> Result<(), ConfigError> {
        if self.server.max_body_bytes == Some(0) {
            return Err(at("max_body_bytes", "expected max_body_bytes above 0".into()));
        }
        for origin in &self.server.cors_origins {
            check_origin(origin).map_err(|m| at(origin, m))?;
        }
        Ok(())
    }
}

/// An origin as browsers send it in `Origin`: `http(s)://host[:port]`, no path, no slash.
fn check_origin(origin: &str) -> Result<(), String> {
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| !r.is_empty() && !r.contains(['/', '?', '#', ' ', '*']));
    if ok && origin.is_ascii() {
        Ok(())
    } else {
        Err(format!(
            "cors_origins: expected an origin like \"https://app.example.com\" (scheme, host and \
             port only, no path or trailing slash), found {origin:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("t.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_overrides() {
        let c = Config::default();
        assert_eq!(c.server.header_timeout(), HEADER_TIMEOUT);
        assert_eq!(c.server.body_timeout(), BODY_TIMEOUT);
        assert_eq!(c.server.max_body_bytes(), MAX_BODY_BYTES);
        assert_eq!(c.storage.timeout(), STORAGE_TIMEOUT);
        let c = parse(
            "[server]\nheader_timeout = \"1s\"\nbody_timeout = \"2s\"\nmax_body_bytes = 10\n\
             cors_origins = [\"http://localhost:3000\"]\n[storage]\ntimeout = \"250ms\"\n",
        )
        .unwrap();
        assert_eq!(c.server.header_timeout(), Duration::from_secs(1));
        assert_eq!(c.server.body_timeout(), Duration::from_secs(2));
        assert_eq!(c.server.max_body_bytes(), 10);
        assert_eq!(c.storage.timeout(), Duration::from_millis(250));
    }

    #[test]
    fn a_zero_body_limit_and_odd_origins_are_refused() {
        assert!(parse("[server]\nmax_body_bytes = 0\n").unwrap_err().contains("above 0"));
        for bad in ["*", "app.example.com", "https://app.example.com/", "https://"] {
            let err = parse(&format!("[server]\ncors_origins = [{bad:?}]\n")).unwrap_err();
            assert!(err.contains("expected an origin"), "{bad}: {err}");
        }
    }
}
