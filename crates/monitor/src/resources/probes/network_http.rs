//! The HTTP GET probe. See [`super::network`] for what counts as down.

use std::fmt;
use std::time::Duration;

use elf_resilience_core::{ResourceStatus, ResourceType};
use tokio::time::Instant;

use super::network::{DEFAULT_NETWORK_TIMEOUT, down, latency_percent};
use super::redact::redact_url;
use crate::resources::{BoxFuture, Probe, ProbeError, Sample};

/// Why an HTTP probe could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpProbeError {
    /// The URL does not parse or is not `http`.
    #[error("invalid probe URL: {0}")]
    InvalidUrl(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// Sends `GET url` and measures the answer's latency and status code.
///
/// 2xx and 3xx are healthy; 5xx is down (Critical); any other status is a `Warning` (the
/// endpoint answers, but not as expected). The client is built without TLS, so only `http://`
/// URLs are accepted. Credentials in the URL never appear in the name or details.
///
/// ```
/// use elf_resilience_monitor::Probe;
/// use elf_resilience_monitor::probes::HttpProbe;
///
/// let probe = HttpProbe::new("billing", "http://user:secret@127.0.0.1:8080/health").unwrap();
/// assert_eq!(probe.name(), "http:billing");
/// assert!(!format!("{probe:?}").contains("secret"));
/// ```
#[derive(Clone)]
pub struct HttpProbe {
    name: String,
    url: reqwest::Url,
    shown: String,
    timeout: Duration,
    client: reqwest::Client,
}

impl fmt::Debug for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProbe")
            .field("name", &self.name)
            .field("url", &self.shown)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl HttpProbe {
    /// A probe named `name` for `url` with the default 5 s timeout.
    pub fn new(name: &str, url: &str) -> Result<Self, HttpProbeError> {
        Self::with_timeout(name, url, DEFAULT_NETWORK_TIMEOUT)
    }

    /// A probe whose whole request (connect, send, headers) must finish within `timeout`.
    pub fn with_timeout(name: &str, url: &str, timeout: Duration) -> Result<Self, HttpProbeError> {
        let url = reqwest::Url::parse(url).map_err(|e| HttpProbeError::InvalidUrl(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(HttpProbeError::InvalidUrl(format!("scheme `{}` (only http)", url.scheme())));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| HttpProbeError::Client(e.to_string()))?;
        let shown = redact_url(url.as_str());
        Ok(Self { name: format!("http:{name}"), url, shown, timeout, client })
    }

    async fn get(&self) -> Result<Sample, ProbeError> {
        let start = Instant::now();
        let response = match self.client.get(self.url.clone()).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Ok(down(format!("{}: no answer within {:?}", self.shown, self.timeout)));
            }
            Err(e) if e.is_connect() => return Ok(down(format!("{}: cannot connect", self.shown))),
            Err(e) if e.is_builder() => {
                return Err(ProbeError::Failed(format!("{}: bad request", self.shown)));
            }
            Err(_) => return Ok(down(format!("{}: request failed", self.shown))),
        };
        let latency = start.elapsed();
        let status = response.status();
        let ms = latency.as_secs_f64() * 1e3;
        let detail = format!("GET {} → {} in {ms:.1} ms", self.shown, status.as_u16());
        let sample = if status.is_server_error() {
            down(detail)
        } else if status.is_success() || status.is_redirection() {
            Sample::new(latency_percent(latency, self.timeout), detail)
        } else {
            Sample::new(latency_percent(latency, self.timeout), detail).with_status(ResourceStatus::Warning)
        };
        Ok(sample.with_metric("latency_ms", ms).with_metric("status_code", f64::from(status.as_u16())))
    }
}

impl Probe for HttpProbe {
    fn resource_type(&self) -> ResourceType {
        ResourceType::Network
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(self.get())
    }
}
