//! The SQLite probe: opens the file, times `SELECT 1`, reads its size and page counts.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use elf_resilience_core::ResourceType;
use rusqlite::{Connection, OpenFlags};

use crate::resources::{BoxFuture, Probe, ProbeError, Sample};

/// Measures a SQLite database file. Usage is the file's size against `max_bytes` when set,
/// otherwise its pages against SQLite's `max_page_count`. The file is opened read-only and
/// never created; the work runs on tokio's blocking pool.
///
/// ```
/// use elf_resilience_monitor::Probe;
/// use elf_resilience_monitor::probes::SqliteProbe;
///
/// let probe = SqliteProbe::new("ledger", "/var/lib/app/ledger.db").max_bytes(1 << 30);
/// assert_eq!(probe.name(), "sqlite:ledger");
/// ```
#[derive(Debug, Clone)]
pub struct SqliteProbe {
    name: String,
    path: PathBuf,
    max_bytes: Option<u64>,
}

/// What one look at the file found.
struct Figures {
    latency: Duration,
    page_count: i64,
    page_size: i64,
    freelist: i64,
    max_pages: i64,
    file_bytes: u64,
}

impl SqliteProbe {
    /// A probe named `name` for the database at `path`.
    pub fn new(name: &str, path: impl Into<PathBuf>) -> Self {
        Self { name: format!("sqlite:{name}"), path: path.into(), max_bytes: None }
    }

    /// The size that counts as full (100 %).
    pub fn max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = Some(max);
        self
    }

    fn read(path: &PathBuf) -> Result<Figures, rusqlite::Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        let start = Instant::now();
        conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
        let latency = start.elapsed();
        let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
        let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Ok(Figures {
            latency,
            page_count: pragma("page_count")?,
            page_size: pragma("page_size")?,
            freelist: pragma("freelist_count")?,
            max_pages: pragma("max_page_count")?,
            file_bytes,
        })
    }

    fn to_sample(&self, f: &Figures) -> Sample {
        let usage = match self.max_bytes {
            Some(max) if max > 0 => f.file_bytes as f64 * 100.0 / max as f64,
            _ => f.page_count as f64 * 100.0 / f.max_pages.max(1) as f64,
        };
        let ms = f.latency.as_secs_f64() * 1e3;
        let detail = format!(
            "{}: {} pages of {} B, SELECT 1 in {ms:.2} ms",
            self.path.display(),
            f.page_count,
            f.page_size
        );
        Sample::new(usage, detail)
            .with_metric("latency_ms", ms)
            .with_metric("file_bytes", f.file_bytes as f64)
            .with_metric("page_count", f.page_count as f64)
            .with_metric("page_size", f.page_size as f64)
            .with_metric("freelist_count", f.freelist as f64)
    }

    async fn measure(&self) -> Result<Sample, ProbeError> {
        let path = self.path.clone();
        let figures = tokio::task::spawn_blocking(move || Self::read(&path))
            .await
            .map_err(|e| ProbeError::Failed(format!("SQLite probe task: {e}")))?
            .map_err(|e| ProbeError::Failed(format!("{}: {e}", self.path.display())))?;
        Ok(self.to_sample(&figures))
    }
}

impl Probe for SqliteProbe {
    fn resource_type(&self) -> ResourceType {
        ResourceType::Database
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn sample(&self) -> BoxFuture<'_, Result<Sample, ProbeError>> {
        Box::pin(self.measure())
    }
}
