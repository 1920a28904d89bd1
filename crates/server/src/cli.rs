//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Resilience for LLM-agent platforms: resource status, health, circuit breakers, the request
/// queue, a dashboard server and a demo of the fallback chain.
#[derive(Debug, Parser)]
#[command(name = "elf-resilience", version, about)]
pub struct Cli {
    /// The config file (default: $ELF_RESILIENCE_CONFIG, else ./elf-resilience.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// How log lines on stderr look: `text` (colour only on a terminal) or `json` (one object
    /// a line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the Resource Status Report: every resource type and the system block.
    Status(JsonFlag),
    /// Run every health check once; exit 0 healthy, 1 degraded, 2 unhealthy.
    Health(HealthArgs),
    /// Usage per team and model over the last hours, with peaks.
    Report {
        /// How many hours back.
        #[arg(long, default_value_t = 24)]
        hours: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List circuit breakers, or trip / reset one on a running server.
    Breakers {
        /// list (default), trip or reset.
        #[command(subcommand)]
        action: Option<BreakerAction>,
        /// The server to talk to (default: the configured bind address).
        #[arg(long, global = true, value_name = "URL")]
        server: Option<String>,
    },
    /// Inspect, replay or purge the durable request queue.
    Queue {
        /// list, replay or purge.
        #[command(subcommand)]
        action: QueueAction,
    },
    /// Run the monitor and the HTTP server with the dashboard, API and /metrics.
    Serve {
        /// Listen here instead of the configured address.
        #[arg(long, value_name = "ADDR")]
        bind: Option<std::net::SocketAddr>,
    },
    /// Run a local flaky LLM provider and push requests through the fallback chain.
    Demo {
        /// How many requests to send.
        #[arg(long, default_value_t = 60)]
        requests: u32,
        /// Keep the dashboard up afterwards (at the configured address).
        #[arg(long)]
        serve: bool,
        /// Seed for the provider's randomness (default: random).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Check or print the config.
    Config {
        /// check or default.
        #[command(subcommand)]
        action: ConfigAction,
    },
}

/// A `--json` flag.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The options of `health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The worst status that still exits 0: `degraded` fails on degraded (exit 1) and
    /// unhealthy (exit 2), for a readiness probe; `unhealthy` exits 0 unless unhealthy, for a
    /// liveness probe.
    #[arg(long, value_enum, default_value_t = FailOn::Degraded, value_name = "STATUS")]
    pub fail_on: FailOn,
}

/// From which status on `health` exits non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Degraded (or unknown) exits 1, unhealthy 2.
    Degraded,
    /// Only unhealthy exits non-zero (2); degraded and unknown exit 0.
    Unhealthy,
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, coloured only when stderr is a terminal.
    Text,
    /// One JSON object a line, with `timestamp`, `level`, `fields` and `target`.
    Json,
}

/// What to do with breakers.
#[derive(Debug, Subcommand)]
pub enum BreakerAction {
    /// List breakers with state and stats.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Force a breaker open.
    Trip {
        /// The breaker's name.
        name: String,
    },
    /// Close a breaker and clear its counts.
    Reset {
        /// The breaker's name.
        name: String,
    },
}

/// What to do with the queue.
#[derive(Debug, Subcommand)]
pub enum QueueAction {
    /// List queued requests, oldest first, one page at a time.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Only requests in this status: pending, leased, done or dead_lettered.
        #[arg(long, value_parser = parse_status)]
        status: Option<elf_resilience::TicketStatus>,
        /// At most this many requests.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
        limit: u64,
        /// Start after this ticket (the last one of the previous page).
        #[arg(long)]
        after: Option<String>,
    },
    /// Make every queued and dead-lettered request ready for delivery again.
    Replay,
    /// Delete finished (done and dead-lettered) requests.
    Purge {
        /// Delete waiting and leased requests too.
        #[arg(long)]
        all: bool,
    },
    /// Delete one request, whatever its state.
    Drop {
        /// Its ticket, as `queue list` shows it.
        ticket: String,
    },
    /// Make one request ready for delivery again, with fresh attempts.
    Requeue {
        /// Its ticket, as `queue list` shows it.
        ticket: String,
    },
}

/// What to do with the config.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Parse and validate a config file (default: the discovered one).
    Check {
        /// The file to check.
        path: Option<PathBuf>,
    },
    /// Print the default config, with comments.
    Default,
}

/// A `--status` value.
fn parse_status(s: &str) -> Result<elf_resilience::TicketStatus, String> {
    elf_resilience::TicketStatus::parse(s)
        .ok_or_else(|| format!("unknown status `{s}`: expected pending, leased, done or dead_lettered"))
}
