//! State shared with other processes and the `elf-resilience` binary: `elf_resilience.connect`.
//!
//! The breakers of this process are published to the binary's breaker store (`breakers.db` in
//! the data directory, or `PREFIX:breakers` in Redis) by the Rust [`BreakerPublisher`], which
//! also applies the trip / reset commands the dashboard sends them. Usage goes to the data
//! directory's ledger (`usage.db`) through a Rust [`QuotaTracker`], as the binary's does.

use elf_resilience::{
    BreakerPublisher, BreakerStateStore, CircuitBreakerRegistry, Context, Owner, QuotaSource, QuotaTracker,
    SqliteBreakerStore, SqliteLedger, SystemClock, UsageLedger, UsageTotal,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::convert::seconds;

create_exception!(
    elf_resilience._native,
    StoreError,
    PyException,
    "Raised when the shared store (the data directory's SQLite files, or Redis) cannot be opened, read or written."
);

/// How long usage history is kept: the binary's default.
const RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// The breakers of this process: every `CircuitBreaker` is registered here, and a connected
/// store publishes them.
pub(crate) fn registry() -> &'static Arc<CircuitBreakerRegistry> {
    static REGISTRY: OnceLock<Arc<CircuitBreakerRegistry>> = OnceLock::new();
    REGISTRY.get_or_init(|| Arc::new(CircuitBreakerRegistry::default()))
}

fn store_error(e: impl std::fmt::Display) -> PyErr {
    StoreError::new_err(e.to_string())
}

/// The thread ticking the publisher (a forked child has none).
#[derive(Debug)]
struct Ticker {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

/// Ticks `publisher` every `every` until told to stop; keeps the last error in `last_error`.
fn spawn_ticker(
    publisher: BreakerPublisher,
    every: Duration,
    last_error: Arc<Mutex<Option<String>>>,
) -> std::io::Result<Ticker> {
    let (stop, stopped) = channel::<()>();
    let thread = std::thread::Builder::new().name("elf-breaker-publisher".into()).spawn(move || {
        while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
            let result = publisher.tick().err().map(|e| e.to_string());
            *last_error.lock().unwrap_or_else(PoisonError::into_inner) = result;
        }
    })?;
    Ok(Ticker { stop, thread })
}

/// The ledger's quota tracker while in the process that opened it. A forked child has no
/// writer thread for the ledger, so there it records and reads nothing (a child connects
/// again for its own).
#[derive(Debug)]
struct OwnQuota {
    tracker: Arc<QuotaTracker>,
    pid: u32,
}

impl OwnQuota {
    fn mine(&self) -> Option<&QuotaTracker> {
        (std::process::id() == self.pid).then_some(&*self.tracker)
    }
}

impl QuotaSource for OwnQuota {
    fn usage_percent(&self, ctx: &Context) -> Option<f64> {
        self.mine().and_then(|t| t.usage_percent(ctx))
    }

    fn record(&self, amount: f64, ctx: &Context) {
        if let Some(t) = self.mine() {
            QuotaSource::record(t, amount, ctx);
        }
    }

    fn totals(&self, period: Duration) -> Vec<UsageTotal> {
        self.mine().map(|t| t.totals(period)).unwrap_or_default()
    }
}

/// A connection to the state the `elf-resilience` binary reads.
#[pyclass(name = "SharedStore", module = "elf_resilience._native", frozen)]
#[derive(Debug)]
pub(crate) struct PyStore {
    publisher: BreakerPublisher,
    ledger: Option<Arc<SqliteLedger>>,
    quota: Option<Arc<OwnQuota>>,
    ticker: Mutex<Option<Ticker>>,
    pid: u32,
    closed: AtomicBool,
    last_error: Arc<Mutex<Option<String>>>,
    backend: &'static str,
    data_dir: Option<PathBuf>,
}

/// The publish interval: seconds, more than zero.
fn interval(secs: f64) -> PyResult<Duration> {
    let every = seconds("publish_interval", secs)?;
    if every.is_zero() {
        return Err(PyValueError::new_err("publish_interval must be greater than 0"));
    }
    Ok(every)
}

fn create_dir(dir: &Path) -> PyResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| store_error(format!("{}: {e}", dir.display())))
}

/// The breaker store: Redis when a URL is given, else `breakers.db` in `dir`.
fn breaker_store(
    dir: Option<&Path>,
    redis_url: Option<&str>,
    prefix: &str,
) -> PyResult<(Arc<dyn BreakerStateStore>, &'static str)> {
    match (redis_url, dir) {
        (Some(url), _) => redis_store(url, prefix),
        (None, Some(dir)) => {
            create_dir(dir)?;
            let store = SqliteBreakerStore::open(dir.join("breakers.db")).map_err(store_error)?;
            Ok((Arc::new(store), "sqlite"))
        }
        (None, None) => Err(PyValueError::new_err("connect() needs a data_dir, a redis_url or both")),
    }
}

fn redis_store(url: &str, prefix: &str) -> PyResult<(Arc<dyn BreakerStateStore>, &'static str)> {
    if prefix.trim().is_empty() {
        return Err(PyValueError::new_err("redis_prefix must not be empty"));
    }
    let store = elf_resilience::RedisBreakerStore::open(url, &format!("{prefix}:breakers"))
        .map_err(|e| store_error(format!("cannot connect to Redis: {e}")))?;
    Ok((Arc::new(store), "redis"))
}

/// The usage ledger in `dir` with a quota tracker over it (no limits: it only records).
fn ledger(dir: &Path) -> PyResult<(Arc<SqliteLedger>, Arc<OwnQuota>)> {
    create_dir(dir)?;
    let ledger =
        SqliteLedger::open(dir.join("usage.db"), SystemClock::shared(), RETENTION).map_err(store_error)?;
    let ledger = Arc::new(ledger);
    let tracker = QuotaTracker::builder(ledger.clone()).build().map_err(store_error)?;
    Ok((ledger, Arc::new(OwnQuota { tracker: Arc::new(tracker), pid: std::process::id() })))
}

impl PyStore {
    /// The quota source for resource managers: the data directory's ledger, if any.
    pub(crate) fn quota(&self) -> Option<Arc<dyn QuotaSource>> {
        self.quota.clone().map(|q| q as Arc<dyn QuotaSource>)
    }

    /// Whether this is a forked child of the process that connected.
    fn forked(&self) -> bool {
        std::process::id() != self.pid
    }

    fn stop_ticker(&self) {
        let ticker = self.ticker.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(t) = ticker.filter(|_| !self.forked()) {
            let _ = t.stop.send(());
            let _ = t.thread.join();
        }
    }
}

#[pymethods]
impl PyStore {
    #[new]
    #[pyo3(signature = (data_dir=None, redis_url=None, redis_prefix="elf-resilience", publish_interval=5.0, owner=None))]
    fn new(
        py: Python<'_>,
        data_dir: Option<PathBuf>,
        redis_url: Option<String>,
        redis_prefix: &str,
        publish_interval: f64,
        owner: Option<String>,
    ) -> PyResult<Self> {
        let every = interval(publish_interval)?;
        let (store, backend) =
            py.detach(|| breaker_store(data_dir.as_deref(), redis_url.as_deref(), redis_prefix))?;
        let (ledger, quota) = match &data_dir {
            Some(dir) => ledger(dir).map(|(l, q)| (Some(l), Some(q)))?,
            None => (None, None),
        };
        let owner = owner.map_or_else(Owner::this_process, Owner::named);
        let publisher = BreakerPublisher::new(registry().clone(), store).owner(owner);
        py.detach(|| publisher.tick()).map_err(store_error)?;
        let last_error = Arc::default();
        let ticker = spawn_ticker(publisher.clone(), every, Arc::clone(&last_error)).map_err(store_error)?;
        let ticker = Mutex::new(Some(ticker));
        Ok(Self {
            pid: std::process::id(),
            publisher,
            ledger,
            quota,
            ticker,
            closed: AtomicBool::new(false),
            last_error,
            backend,
            data_dir,
        })
    }

    /// Applies the dashboard's commands and publishes every breaker now; returns the counts
    /// `{"applied", "unknown", "published"}`.
    fn publish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if self.closed.load(Ordering::Acquire) || self.forked() {
            return Err(store_error("the shared store is closed (or was connected by the parent process)"));
        }
        let tick = py.detach(|| self.publisher.tick()).map_err(store_error)?;
        let d = PyDict::new(py);
        d.set_item("applied", tick.applied)?;
        d.set_item("unknown", tick.unknown)?;
        d.set_item("published", tick.published)?;
        Ok(d)
    }

    /// Waits until every usage record so far is written to the ledger.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        match self.ledger.as_ref().filter(|_| !self.forked()) {
            Some(ledger) => py.detach(|| ledger.flush()).map_err(store_error),
            None => Ok(()),
        }
    }

    /// Stops publishing, withdraws this process's breakers from the store and writes the
    /// pending usage. Later usage records are dropped; closing again does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        // A forked child leaves the parent's breakers and ledger alone.
        if self.closed.swap(true, Ordering::AcqRel) || self.forked() {
            return Ok(());
        }
        py.detach(|| self.stop_ticker());
        let withdrawn = py.detach(|| self.publisher.withdraw()).map_err(store_error);
        if let Some(ledger) = &self.ledger {
            py.detach(|| ledger.close()).map_err(store_error)?;
        }
        withdrawn
    }

    /// Who this process publishes as (`host:pid` unless `owner` was given).
    #[getter]
    fn owner_id(&self) -> &str {
        self.publisher.owner_id()
    }

    /// Where breakers go: `sqlite` or `redis`.
    #[getter]
    fn backend(&self) -> &'static str {
        self.backend
    }

    /// The data directory (the usage ledger, and the breakers without Redis), if any.
    #[getter]
    fn data_dir(&self) -> Option<PathBuf> {
        self.data_dir.clone()
    }

    /// The error of the last background publish, or None when it worked.
    #[getter]
    fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn __repr__(&self) -> String {
        let dir = self
            .data_dir
            .as_ref()
            .map_or_else(|| "None".to_owned(), |d| format!("{:?}", d.display().to_string()));
        format!("SharedStore(backend={:?}, data_dir={dir}, owner={:?})", self.backend, self.owner_id())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("StoreError", m.py().get_type::<StoreError>())?;
    m.add_class::<PyStore>()
}
