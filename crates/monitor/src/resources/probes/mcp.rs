//! The MCP server probe, over stdio (spawning the server's command) or streamable HTTP, with
//! the official `rmcp` SDK.
//!
//! # What it sends
//!
//! The client starts in rmcp's `Auto` lifecycle: it offers protocol `2026-07-28` through
//! `server/discover` and falls back to the `initialize` handshake at `2025-11-25` for servers
//! that do not know `server/discover`, or that know it but support only versions with an
//! `initialize` handshake. Each sample then measures one round trip chosen by the negotiated
//! version: `ping` up to `2025-11-25`, and for `2026-07-28` (which has no `ping`) a
//! `server/discover` request sent directly on the wire, never the SDK's cached discovery
//! result.
//!
//! # What counts as a reading
//!
//! As for the network probes: a server that cannot be reached, fails the handshake, errors on
//! the round trip or exceeds the timeout is down (usage 100 %, `Critical`), and the detail says
//! what happened (the cause behind the SDK's error; for stdio, the last lines the server wrote
//! to stderr). Only a command that cannot be spawned is a [`ProbeError`] (a configuration
//! fault). A live server's usage is its round-trip latency as a percentage of the timeout. The
//! timeout bounds the whole sample, handshake and round trip together.
//!
//! # Processes and connections
//!
//! Over stdio each sample starts the server as the leader of a new process group and ends the
//! whole group when the sample ends, however it ends (answer, error, timeout, or the sample's
//! future dropped): SIGTERM, then SIGKILL after a short grace. So a server started through
//! `sh -c`, `npx` or a wrapper script leaves nothing behind. Over HTTP the client is kept
//! between samples and restarted when its transport closes.
//!
//! User information and query values of an HTTP `url` never appear in the probe's `Debug`,
//! details or reasons (see [`redact_url`](super::redact_url)).

use std::fmt;
use std::time::Duration;

use elf_resilience_core::ResourceType;
use rmcp::model::{
    ClientConfig, ClientRequest, DiscoverRequest, DiscoverRequestParams, PingRequest, ProtocolVersion,
};
use rmcp::service::{ClientInitializeError, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientLifecycleMode, ClientServiceExt};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::mcp_cause::{init_cause, request_cause};
use super::mcp_stdio::StdioServer;
use super::network::{down, latency_percent};
use super::redact::{redact_url, scrub_url};
use crate::resources::{BoxFuture, Probe, ProbeError, Sample};

type Client = RunningService<RoleClient, ClientConfig>;

/// How to reach an MCP server.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum McpTransport {
    /// Spawn `command` with `args` and talk over its stdin and stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// Streamable HTTP at `url` (`http://…/mcp`).
    Http {
        /// The endpoint.
        url: String,
    },
}

impl fmt::Debug for McpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stdio { command, args } => {
                f.debug_struct("Stdio").field("command", command).field("args", args).finish()
            }
            Self::Http { url } => f.debug_struct("Http").field("url", &redact_url(url)).finish(),
        }
    }
}

/// Measures an MCP server's availability and round-trip latency.
///
/// ```
/// use elf_resilience_monitor::Probe;
/// use elf_resilience_monitor::probes::McpProbe;
///
/// let probe = McpProbe::http("search", "http://127.0.0.1:8000/mcp");
/// assert_eq!(probe.name(), "mcp:search");
/// let probe = McpProbe::stdio("files", "mcp-server-files", ["--root", "/srv"]);
/// assert_eq!(probe.name(), "mcp:files");
/// ```
pub struct McpProbe {
    name: String,
    transport: McpTransport,
    timeout: Duration,
    client: Mutex<Option<Client>>,
}

impl fmt::Debug for McpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpProbe")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The round trip a sample made and the version it spoke.
struct RoundTrip {
    method: &'static str,
    version: ProtocolVersion,
    latency: Duration,
}

impl McpProbe {
    /// A probe over stdio, spawning `command args…`.
    pub fn stdio<I, S>(name: &str, command: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args = args.into_iter().map(Into::into).collect();
        Self::new(name, McpTransport::Stdio { command: command.into(), args })
    }

    /// A probe over streamable HTTP.
    pub fn http(name: &str, url: impl Into<String>) -> Self {
        Self::new(name, McpTransport::Http { url: url.into() })
    }

    /// A probe over `transport`, with a 5 s timeout.
    pub fn new(name: &str, transport: McpTransport) -> Self {
        Self {
            name: format!("mcp:{name}"),
            transport,
            timeout: Duration::from_secs(5),
            client: Mutex::new(None),
        }
    }

    /// How long a sample (starting the client when needed, then the round trip) may take
    /// before the server counts as down. Default 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts a client: `Auto` first, then the legacy handshake when the server turns out to
    /// support only versions that have one. Stdio servers it starts are pushed to `servers`.
    async fn connect(
        &self,
        servers: &mut Vec<StdioServer>,
        deadline: Instant,
    ) -> Result<Result<Client, String>, ProbeError> {
        let auto = ClientLifecycleMode::Auto {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            legacy_version: Some(ProtocolVersion::V_2025_11_25),
        };
        match self.start(auto, servers, deadline).await? {
            Err(Some(ClientInitializeError::NoCompatibleProtocolVersion { server_supported, .. }))
                if server_supported.iter().any(ProtocolVersion::has_initialize) =>
            {
                tracing::debug!(probe = %self.name, ?server_supported, "falling back to the initialize handshake");
                let legacy = self.start(ClientLifecycleMode::Initialize, servers, deadline).await?;
                Ok(legacy.map_err(|e| self.why(e)))
            }
            other => Ok(other.map_err(|e| self.why(e))),
        }
    }

    fn why(&self, e: Option<ClientInitializeError>) -> String {
        e.map_or_else(
            || format!("no handshake: {}", self.timed_out()),
            |e| format!("handshake failed: {}", init_cause(&e)),
        )
    }

    fn timed_out(&self) -> String {
        format!("timed out after {} ms", self.timeout.as_millis())
    }

    /// One handshake attempt; `Err(None)` when it timed out.
    async fn start(
        &self,
        lifecycle: ClientLifecycleMode,
        servers: &mut Vec<StdioServer>,
        deadline: Instant,
    ) -> Result<Result<Client, Option<ClientInitializeError>>, ProbeError> {
        let config = ClientConfig::default();
        let starting = match &self.transport {
            McpTransport::Stdio { command, args } => {
                let (server, stdout, stdin) = StdioServer::spawn(command, args)?;
                servers.push(server);
                tokio::time::timeout_at(deadline, config.serve_with_lifecycle((stdout, stdin), lifecycle))
                    .await
            }
            McpTransport::Http { url } => {
                let transport = StreamableHttpClientTransport::from_uri(url.as_str());
                tokio::time::timeout_at(deadline, config.serve_with_lifecycle(transport, lifecycle)).await
            }
        };
        Ok(match starting {
            Err(_) => Err(None),
            Ok(result) => result.map_err(Some),
        })
    }

    async fn round_trip(&self, client: &Client, deadline: Instant) -> Result<RoundTrip, String> {
        let version =
            client.peer_info().map(|i| i.protocol_version.clone()).unwrap_or(ProtocolVersion::V_2025_11_25);
        let (method, request) = if version == ProtocolVersion::V_2026_07_28 {
            (
                "server/discover",
                ClientRequest::DiscoverRequest(DiscoverRequest::new(DiscoverRequestParams {})),
            )
        } else {
            ("ping", ClientRequest::PingRequest(PingRequest::default()))
        };
        let start = Instant::now();
        match tokio::time::timeout_at(deadline, client.send_request(request)).await {
            Err(_) => Err(format!("{method}: {}", self.timed_out())),
            Ok(Err(e)) => Err(format!("{method}: {}", request_cause(&e))),
            Ok(Ok(_)) => Ok(RoundTrip { method, version, latency: start.elapsed() }),
        }
    }

    async fn measure(&self) -> Result<Sample, ProbeError> {
        let deadline = Instant::now() + self.timeout;
        match &self.transport {
            McpTransport::Http { url } => self.measure_http(url, deadline).await,
            McpTransport::Stdio { .. } => self.measure_stdio(deadline).await,
        }
    }

    async fn measure_http(&self, url: &str, deadline: Instant) -> Result<Sample, ProbeError> {
        let mut slot = self.client.lock().await;
        let client = match slot.take().filter(|c| !c.is_closed() && !c.is_transport_closed()) {
            Some(client) => client,
            None => match self.connect(&mut Vec::new(), deadline).await? {
                Ok(client) => client,
                Err(why) => return Ok(self.down(&scrub_url(&why, url))),
            },
        };
        match self.round_trip(&client, deadline).await {
            Ok(trip) => {
                *slot = Some(client);
                Ok(self.to_sample(&trip))
            }
            Err(why) => Ok(self.down(&scrub_url(&why, url))),
        }
    }

    /// Starts the server, measures, and ends every process it started, on every path.
    async fn measure_stdio(&self, deadline: Instant) -> Result<Sample, ProbeError> {
        let mut servers = Vec::new();
        let measured = self.stdio_round_trip(&mut servers, deadline).await;
        let mut stderr = None;
        for server in servers {
            stderr = server.end().await.or(stderr);
        }
        Ok(match measured? {
            Ok(trip) => self.to_sample(&trip),
            Err(why) => match stderr {
                Some(tail) => self.down(&format!("{why}; stderr: {tail}")),
                None => self.down(&why),
            },
        })
    }

    async fn stdio_round_trip(
        &self,
        servers: &mut Vec<StdioServer>,
        deadline: Instant,
    ) -> Result<Result<RoundTrip, String>, ProbeError> {
        Ok(match self.connect(servers, deadline).await? {
            Ok(client) => self.round_trip(&client, deadline).await,
            Err(why) => Err(why),
        })
    }

    fn down(&self, why: &str) -> Sample {
        down(format!("{}: {why}", self.name))
    }

    fn to_sample(&self, trip: &RoundTrip) -> Sample {
        let ms = trip.latency.as_secs_f64() * 1e3;
        let detail =
            format!("{} answered {} in {ms:.1} ms (protocol {})", self.name, trip.method, trip.version);
        Sample::new(latency_percent(trip.latency, self.timeout), detail).with_metric("latency_ms", ms)
    }
}

impl Probe for McpProbe {
    fn resource_type(&self) -> ResourceType {
        ResourceType::McpServer
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(self.measure())
    }
}
