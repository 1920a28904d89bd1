//! Database probes against the real thing: the local PostgreSQL (`ELF_TEST_POSTGRES_URL`), a
//! SQLite file and a deadpool pool of SQLite connections.

use std::time::Duration;

use elf_resilience_core::{ResourceStatus, ResourceType};
use elf_resilience_monitor::probes::{DatabaseProbeError, PoolProbe, PoolStats, PostgresProbe, SqliteProbe};
use elf_resilience_monitor::{Probe, ProbeError, Sample};

fn metric(sample: &Sample, name: &str) -> f64 {
    sample.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v).unwrap_or_else(|| panic!("no {name}"))
}

fn postgres_url() -> Option<String> {
    let url = std::env::var("ELF_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        println!("skipping: ELF_TEST_POSTGRES_URL is not set");
    }
    url
}

async fn setting(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn postgres_counts_client_connections_against_open_slots() {
    let Some(url) = postgres_url() else { return };
    let mut held = Vec::new();
    for _ in 0..3 {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        held.push(client);
    }
    let max = setting(&held[0], "SELECT current_setting('max_connections')::bigint").await;
    let su = setting(&held[0], "SELECT current_setting('superuser_reserved_connections')::bigint").await;
    let reserved =
        setting(&held[0], "SELECT coalesce(current_setting('reserved_connections', true), '0')::bigint")
            .await;
    let probe = PostgresProbe::new("test", &url).unwrap();
    assert_eq!(probe.resource_type(), ResourceType::Database);
    let sample = probe.sample().await.unwrap();
    let (used, open) = (metric(&sample, "client_connections"), metric(&sample, "available_connections"));
    assert!(used >= 3.0, "the three held connections count: {sample:?}");
    assert_eq!(open, (max - su - reserved) as f64);
    assert!((sample.usage_percent - used * 100.0 / open).abs() < 1e-9);
    assert!(metric(&sample, "latency_ms") > 0.0);
    let again = probe.sample().await.unwrap();
    assert!(metric(&again, "client_connections") >= 3.0, "the kept connection is reused");
    drop(held);
}

#[tokio::test]
async fn postgres_on_a_closed_port_is_critical_with_the_cause_and_without_the_password() {
    let probe = PostgresProbe::new("down", "postgres://postgres:s3cret@127.0.0.1:1/test").unwrap();
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    assert_eq!(sample.usage_percent, 100.0);
    let text = sample.detail;
    assert!(text.contains("postgres@127.0.0.1:1/test") && text.contains("refused"), "{text}");
    assert!(
        !text.contains("s3cret")
            && !format!("{probe:?}").contains("s3cret")
            && !probe.name().contains("s3cret")
    );
    let kv = PostgresProbe::new("kv", "host=127.0.0.1 port=1 user=app password=hunter2 dbname=x").unwrap();
    let text = kv.sample().await.unwrap().detail;
    assert!(!text.contains("hunter2") && text.contains("app@127.0.0.1:1/x"), "{text}");
    assert_eq!(
        PostgresProbe::new("bad", "postgres://u:pw@host:notaport/db").unwrap_err(),
        DatabaseProbeError::InvalidDsn
    );
}

#[tokio::test]
async fn postgres_without_the_database_says_so() {
    let Some(url) = postgres_url() else { return };
    let (server, _) = url.split('?').next().unwrap().rsplit_once('/').unwrap();
    let dsn = format!("{server}/nosuchdb");
    let sample = PostgresProbe::new("missing", &dsn).unwrap().sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    assert!(sample.detail.contains(r#"database "nosuchdb" does not exist"#), "{}", sample.detail);
}

#[tokio::test(start_paused = true)]
async fn postgres_that_never_answers_is_critical_after_the_timeout() {
    let addr = crate::silent_server().await;
    let dsn = format!("postgres://app@{addr}/app");
    let probe = PostgresProbe::new("silent", &dsn).unwrap().connect_timeout(Duration::from_millis(200));
    let start = tokio::time::Instant::now();
    let sample = probe.sample().await.unwrap();
    assert_eq!(sample.status_override, Some(ResourceStatus::Critical), "{sample:?}");
    assert!(sample.detail.contains("timed out after 200 ms"), "{}", sample.detail);
    assert_eq!(start.elapsed(), Duration::from_millis(200));
}

#[tokio::test]
async fn sqlite_reports_pages_size_and_latency() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (v BLOB); INSERT INTO t VALUES (zeroblob(100000));").unwrap();
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let sample = SqliteProbe::new("t", &path).max_bytes(size * 4).sample().await.unwrap();
    assert_eq!(metric(&sample, "page_count"), pages as f64);
    assert_eq!(metric(&sample, "file_bytes"), size as f64);
    assert_eq!(sample.usage_percent, 25.0);
    assert!(metric(&sample, "latency_ms") >= 0.0);
    let by_pages = SqliteProbe::new("t", &path).sample().await.unwrap();
    assert!(by_pages.usage_percent > 0.0 && by_pages.usage_percent < 1.0, "{by_pages:?}");
    let missing = SqliteProbe::new("gone", dir.path().join("missing.db")).sample().await;
    assert!(matches!(missing, Err(ProbeError::Failed(_))), "{missing:?}");
    assert!(!dir.path().join("missing.db").exists(), "the probe never creates a database");
}

/// Hands out real in-memory SQLite connections.
struct Sqlite;

impl deadpool::managed::Manager for Sqlite {
    type Type = rusqlite::Connection;
    type Error = rusqlite::Error;

    async fn create(&self) -> Result<rusqlite::Connection, rusqlite::Error> {
        rusqlite::Connection::open_in_memory()
    }

    async fn recycle(
        &self,
        conn: &mut rusqlite::Connection,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<rusqlite::Error> {
        conn.execute_batch("SELECT 1").map_err(deadpool::managed::RecycleError::Backend)
    }
}

#[tokio::test]
async fn a_deadpool_pool_reports_busy_and_waiting() {
    let pool = deadpool::managed::Pool::<Sqlite>::builder(Sqlite).max_size(3).build().unwrap();
    let probe = {
        let pool = pool.clone();
        PoolProbe::new("sqlite", move || pool.status().into())
    };
    assert_eq!(probe.sample().await.unwrap().usage_percent, 0.0);
    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    let c = pool.get().await.unwrap();
    drop(c);
    let sample = probe.sample().await.unwrap();
    assert!((sample.usage_percent - 200.0 / 3.0).abs() < 1e-9, "{sample:?}");
    let c = pool.get().await.unwrap();
    let waiter = tokio::spawn({
        let pool = pool.clone();
        async move { pool.get().await.map(|_| ()) }
    });
    for _ in 0..1000 {
        if pool.status().waiting == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let sample = probe.sample().await.unwrap();
    assert!((sample.usage_percent - 400.0 / 3.0).abs() < 1e-9, "{sample:?}");
    drop((a, b, c));
    waiter.await.unwrap().unwrap();
    let empty = PoolProbe::new("none", PoolStats::default).sample().await;
    assert!(matches!(empty, Err(ProbeError::Failed(_))));
}
