//! `elf-resilience`: the command-line front door.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use elf_resilience_server::cli::{Cli, Command, ConfigAction, LogFormat};
use elf_resilience_server::config::{self, Config};
use elf_resilience_server::exit::Failure;
use elf_resilience_server::redact::{Redactor, ScrubbedStderr};
use elf_resilience_server::{commands, demo, serve};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

/// Threads for storage calls, DNS lookups and other blocking work. Each store serializes its
/// calls behind one connection, so more threads would only wait; a burst of requests (50
/// clients on `/metrics`) would otherwise start dozens of threads, and memory with them.
const MAX_BLOCKING_THREADS: usize = 16;

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    if let Command::Config { action } = &cli.command {
        return config_command(action, cli.config.as_deref());
    }
    let (config, _) = Config::discover(cli.config.as_deref())?;
    let redactor = Redactor::from_config(&config, &[]);
    let quiet = matches!(cli.command, Command::Demo { .. });
    let default = if quiet { "error" } else { "warn,elf_resilience_server=info" };
    init_logging(redactor.clone(), cli.log_format, default);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
        .context("starting the async runtime")?;
    Ok(runtime.block_on(dispatch(cli.command, config, redactor))?)
}

/// Logs to stderr through the secret scrubber, as text (coloured only on a terminal) or JSON.
fn init_logging(redactor: Redactor, format: LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(ScrubbedStderr(redactor));
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

fn config_command(action: &ConfigAction, global: Option<&std::path::Path>) -> Result<ExitCode, Failure> {
    match action {
        ConfigAction::Default => print!("{}", config::DEFAULT_TOML),
        ConfigAction::Check { path } => {
            let (_, found) = Config::discover(path.as_deref().or(global))?;
            match found {
                Some(p) => println!("{}: ok", p.display()),
                None => println!("no config file found; the built-in defaults apply"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn dispatch(command: Command, config: Config, redactor: Redactor) -> anyhow::Result<ExitCode> {
    use commands::{breakers, health, queue, report, status};
    match command {
        Command::Status(f) => status::run(&config, f.json, &redactor).await?,
        Command::Health(h) => return health::run(&config, h.json, h.fail_on).await,
        Command::Report { hours, json } => report::run(&config, hours, json)?,
        Command::Breakers { action, server } => {
            breakers::run(&config, action.as_ref(), server.as_deref()).await?
        }
        Command::Queue { action } => queue::run(&config, &action)?,
        Command::Serve { bind } => serve::run(&config, bind, redactor).await?,
        Command::Demo { requests, serve, seed } => {
            let seed = seed.unwrap_or_else(|| fastrand::u64(..));
            demo::run(&config, demo::DemoOptions { requests, serve, seed }, redactor).await?;
        }
        Command::Config { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}
