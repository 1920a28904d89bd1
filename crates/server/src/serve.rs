//! `serve`: samplers, health monitor and the HTTP server, until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use elf_resilience::{
    BreakerPublisher, CircuitBreakerRegistry, Owner, PublisherHandle, ResourceGate, ResourceManager,
    SystemClock, UsageLedger,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::checks;
use crate::config::Config;
use crate::redact::Redactor;
use crate::replay;
use crate::shared::SharedBreakers;
use crate::state::AppState;
use crate::stores::Stores;
use crate::wiring::{health_monitor, quota_tracker, resource_manager, token};

/// How often the dashboard's usage history gets a point.
const HISTORY_EVERY: Duration = Duration::from_secs(5);
/// How often breakers are published and the cache evicted, unless configured.
const PUBLISH_EVERY: Duration = Duration::from_secs(5);
const EVICT_EVERY: Duration = Duration::from_secs(300);
/// Bucket bounds (seconds) of the `*_duration_seconds` histograms: LLM calls take from
/// milliseconds to tens of seconds.
const DURATION_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// A running server's parts, for the demo to share.
#[derive(Debug)]
pub struct Running {
    /// The shared state.
    pub state: AppState,
    /// The stores.
    pub stores: Stores,
    /// Where it listens.
    pub addr: SocketAddr,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    background: Background,
}

/// The tasks beside the HTTP server, and how long stopping them may take.
#[derive(Debug)]
struct Background {
    worker: tokio::task::JoinHandle<()>,
    publisher: PublisherHandle,
    evictor: Option<tokio::task::JoinHandle<()>>,
    grace: Duration,
}

/// The exit code of `serve` stopped at once by a second SIGINT, SIGTERM or SIGHUP.
pub const FORCED_EXIT: i32 = 130;

/// Installs the Prometheus recorder once per process.
pub fn install_metrics() -> Option<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), DURATION_BUCKETS);
            let handle = builder.ok().and_then(|b| b.install_recorder().ok());
            crate::gauges::describe();
            handle
        })
        .clone()
}

/// Starts everything and serves on `bind`; returns once listening. The port is bound before
/// any store is opened, so a start on a taken port writes nothing to the data directory.
pub async fn start(config: &Config, bind: SocketAddr, redactor: Redactor) -> anyhow::Result<Running> {
    let listener = listen(bind).await?;
    let stores = Stores::open(config)?;
    let rm = resource_manager(config, quota_tracker(config, stores.ledger.clone())?)?;
    serve_on(config, listener, redactor, stores, Arc::new(CircuitBreakerRegistry::default()), rm).await
}

/// Like [`start`], over given stores, breakers and resource manager (the demo shares its own).
/// Starts the manager's samplers.
pub async fn start_with(
    config: &Config,
    bind: SocketAddr,
    redactor: Redactor,
    stores: Stores,
    breakers: Arc<CircuitBreakerRegistry>,
    rm: ResourceManager,
) -> anyhow::Result<Running> {
    let listener = listen(bind).await?;
    serve_on(config, listener, redactor, stores, breakers, rm).await
}

/// Binds `bind`, saying what to do when the port is taken.
async fn listen(bind: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(bind).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "; another process listens there: stop it, or choose another port with --bind or [server] bind"
            }
            _ => "",
        };
        anyhow::anyhow!("cannot listen on {bind}: {e}{hint}")
    })
}

/// The rest of [`start`] once the port is bound: the token file, monitoring, the background
/// tasks and the HTTP server.
async fn serve_on(
    config: &Config,
    listener: TcpListener,
    redactor: Redactor,
    stores: Stores,
    breakers: Arc<CircuitBreakerRegistry>,
    rm: ResourceManager,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let metrics = install_metrics();
    let health = health_monitor(config);
    checks::register(&health, config, &rm, 2)?;
    checks::register_storage(&health, config, &stores)?;
    let token = token(config, &stores.dir)?;
    rm.start();
    health.start_monitoring().await;
    let queue = stores.queue.clone();
    let state = AppState::new(rm, health, breakers, queue, token, metrics);
    tokio::spawn(history_loop(state.clone()));
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let background = background(config, &state, &stores, stop.subscribe())?;
    let server =
        tokio::spawn(crate::http::serve(config, listener, state.clone(), redactor, &stores, async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
    state.set_ready(true);
    tracing::info!(%addr, backend = ?stores.backend, "serving dashboard, API and /metrics");
    Ok(Running { state, stores, addr, server, stop, background })
}

/// The queue worker, the breaker publisher and the cache evictor.
fn background(
    config: &Config,
    state: &AppState,
    stores: &Stores,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Background> {
    let gate: Arc<dyn ResourceGate> = Arc::new(state.resources.clone());
    let worker = replay::queue_worker(config, state.queue.clone(), gate, SystemClock::shared())?
        .share_breakers(&state.breakers);
    let status = replay::status(config);
    state.set_replay(status.clone());
    let worker = tokio::spawn(replay::run(worker, status, replay::interval(config), stop));
    let me = Owner::this_process();
    state.set_shared_breakers(SharedBreakers::new(stores.breakers.clone(), me.clone(), config));
    let every = config.breakers.publish_interval.map_or(PUBLISH_EVERY, |d| d.0);
    let publisher = BreakerPublisher::new(state.breakers.clone(), stores.breakers.clone())
        .owner(me)
        .timeout(config.storage.timeout())
        .spawn(every);
    let evict_every = config.storage.cache_evict_interval.map_or(EVICT_EVERY, |d| d.0);
    let evictor = stores.evictable.as_ref().map(|c| c.spawn_evictor(SystemClock::shared(), evict_every));
    Ok(Background { worker, publisher, evictor, grace: config.server.shutdown_grace() })
}

impl Running {
    /// Stops within `[server] shutdown_grace`: readiness turns 503 at once, the listener stops
    /// and in-flight HTTP requests finish, the queue worker takes no new lease and its delivery
    /// in flight finishes or is released unspent; then the health monitor and samplers stop and
    /// the ledger is flushed and closed.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + self.background.grace;
        self.state.set_ready(false);
        let _ = self.stop.send(true);
        let (served, ()) = tokio::join!(within(deadline, "HTTP server", self.server), async {
            within(deadline, "queue worker", self.background.worker).await;
        });
        self.background.publisher.stop().await;
        if let Some(evictor) = &self.background.evictor {
            evictor.abort();
        }
        self.state.health.stop().await;
        self.state.resources.stop();
        self.stores.ledger.flush().context("flushing the usage ledger")?;
        self.stores.ledger.close().context("closing the usage ledger")?;
        tracing::info!(backend = ?self.stores.backend, "stopped; ledger flushed, queue kept");
        match served {
            Some(served) => Ok(served??),
            None => Ok(()),
        }
    }
}

/// Waits for `task` until `deadline`, then cancels it; its output if it finished.
async fn within<T>(
    deadline: tokio::time::Instant,
    what: &str,
    mut task: tokio::task::JoinHandle<T>,
) -> Option<Result<T, tokio::task::JoinError>> {
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(done) => Some(done),
        Err(_) => {
            tracing::warn!(task = what, "still busy at the end of [server] shutdown_grace; cancelled");
            task.abort();
            None
        }
    }
}

/// Records a history point on a blocking thread (the quota reading reaches the usage ledger),
/// one at a time: points that fall due while one waits on storage are skipped.
async fn history_loop(state: AppState) {
    let mut tick = tokio::time::interval(HISTORY_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let recording = state.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || recording.record_history(SystemTime::now())).await
        {
            tracing::warn!(error = %e, "recording the usage history failed");
        }
        if let Some(m) = &state.metrics {
            m.run_upkeep();
        }
    }
}

/// The signals that stop `serve`: SIGINT, SIGTERM and SIGHUP (which stops like SIGTERM),
/// listened to from the start so a second one is caught too.
struct StopSignals {
    #[cfg(unix)]
    unix: [(tokio::signal::unix::Signal, &'static str); 3],
}

impl StopSignals {
    fn new() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen =
                |kind, name| signal(kind).map(|s| (s, name)).with_context(|| format!("listening for {name}"));
            Ok(Self {
                unix: [
                    listen(SignalKind::interrupt(), "SIGINT")?,
                    listen(SignalKind::terminate(), "SIGTERM")?,
                    listen(SignalKind::hangup(), "SIGHUP")?,
                ],
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The name of the next signal received.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            let [(int, _), (term, _), (hup, _)] = &mut self.unix;
            tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        }
    }
}

/// Resolves on SIGINT, SIGTERM or SIGHUP.
pub async fn shutdown_signal() {
    match StopSignals::new() {
        Ok(mut signals) => {
            let name = signals.next().await;
            tracing::info!(signal = name, "shutdown signal received");
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for stop signals; stopping on ctrl-c only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `serve`: runs until SIGINT, SIGTERM or SIGHUP, then stops gracefully (see
/// [`Running::shutdown`]); a second signal during that stop exits at once with
/// [`FORCED_EXIT`].
pub async fn run(config: &Config, bind: Option<SocketAddr>, redactor: Redactor) -> anyhow::Result<()> {
    let bind = bind.unwrap_or_else(|| config.server.bind());
    anyhow::ensure!(
        config.server.may_listen_on(bind),
        "--bind {bind} is a public address: set [server] token, or allow_public = true"
    );
    let mut signals = StopSignals::new()?;
    let running = start(config, bind, redactor).await?;
    println!("elf-resilience listening on http://{}", running.addr);
    let first = signals.next().await;
    let grace = config.server.shutdown_grace();
    tracing::info!(signal = first, ?grace, "stopping (a second signal stops at once)");
    tokio::select! {
        stopped = running.shutdown() => stopped,
        second = signals.next() => {
            tracing::warn!(signal = second, code = FORCED_EXIT, "second signal: stopping at once");
            std::process::exit(FORCED_EXIT)
        }
    }
}
