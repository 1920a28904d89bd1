//! Network probes: a TCP connect and an HTTP GET, each with a timeout, latency and (for HTTP)
//! the status code.
//!
//! # What counts as a reading
//!
//! An endpoint that refuses the connection, does not answer within the probe's timeout, or
//! answers HTTP 5xx is *known to be down*: the probe returns a sample with usage 100 % and a
//! `Critical` status override, so the manager reports it Critical (not Unknown). Errors that
//! leave the endpoint's state unknown (an address that does not resolve, a client that cannot
//! be built) are [`ProbeError`]s, reported as Unknown. A healthy answer's usage is its latency
//! as a percentage of the timeout, so a slowing endpoint climbs through the thresholds.

use std::time::Duration;

use elf_resilience_core::{ResourceStatus, ResourceType};
use tokio::time::Instant;

use crate::resources::{BoxFuture, Probe, ProbeError, Sample};

/// The timeout when none is set.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(5);

/// Latency as a percentage of the timeout.
pub(crate) fn latency_percent(latency: Duration, timeout: Duration) -> f64 {
    if timeout.is_zero() { 100.0 } else { (latency.as_secs_f64() / timeout.as_secs_f64() * 100.0).min(100.0) }
}

/// A sample for an endpoint known to be down (the sampler counts it, per probe).
pub(crate) fn down(detail: String) -> Sample {
    tracing::debug!(detail = %detail, "endpoint down");
    Sample::new(100.0, detail).with_status(ResourceStatus::Critical)
}

/// Connects to a TCP address and measures how long that takes.
///
/// ```
/// use elf_resilience_monitor::Probe;
/// use elf_resilience_monitor::probes::TcpProbe;
/// use std::time::Duration;
///
/// let probe = TcpProbe::new("db-primary", "127.0.0.1:5432").timeout(Duration::from_millis(500));
/// assert_eq!(probe.name(), "tcp:db-primary");
/// ```
#[derive(Debug, Clone)]
pub struct TcpProbe {
    name: String,
    addr: String,
    timeout: Duration,
}

impl TcpProbe {
    /// A probe named `name` connecting to `addr` (`host:port`).
    pub fn new(name: &str, addr: impl Into<String>) -> Self {
        Self { name: format!("tcp:{name}"), addr: addr.into(), timeout: DEFAULT_NETWORK_TIMEOUT }
    }

    /// How long a connect may take before the endpoint counts as down. Default 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn connect(&self) -> Result<Sample, ProbeError> {
        let addrs = tokio::net::lookup_host(&self.addr)
            .await
            .map_err(|e| ProbeError::Failed(format!("cannot resolve {}: {e}", self.addr)))?
            .collect::<Vec<_>>();
        if addrs.is_empty() {
            return Err(ProbeError::Failed(format!("{} resolves to no address", self.addr)));
        }
        let start = Instant::now();
        match tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(&addrs[..])).await {
            Err(_) => Ok(down(format!("{}: no connection within {:?}", self.addr, self.timeout))),
            Ok(Err(e)) => Ok(down(format!("{}: {e}", self.addr))),
            Ok(Ok(_stream)) => {
                let latency = start.elapsed();
                let ms = latency.as_secs_f64() * 1e3;
                Ok(Sample::new(
                    latency_percent(latency, self.timeout),
                    format!("{} connected in {ms:.1} ms", self.addr),
                )
                .with_metric("latency_ms", ms))
            }
        }
    }
}

impl Probe for TcpProbe {
    fn resource_type(&self) -> ResourceType {
        ResourceType::Network
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(self.connect())
    }
}
