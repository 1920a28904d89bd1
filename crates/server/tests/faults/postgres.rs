//! PostgreSQL as a `[[probes.databases]]` entry read by a `resource` health check: refused,
//! stalled (a proxy holding every byte) and slow (a proxy answering after the probe's timeout).
//! Needs `ELF_TEST_POSTGRES_URL`'s server at 127.0.0.1:5432; prints why it skips without it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use elf_resilience::HealthStatus;

use crate::proxy::TcpProxy;
use crate::support::{bin, check_until, config, livez_is_fast, reported, serve};

/// The probe's timeout; the check may take longer (it waits for the probe to report).
const PROBE_TIMEOUT: &str = "300ms";
/// The bound on one check run while PostgreSQL does not answer: the probe's timeout, its slack,
/// and a margin for a busy machine; far below the check's own 5 s.
const RUN_BOUND: Duration = Duration::from_secs(3);

fn postgres() -> Option<SocketAddr> {
    let Ok(url) = std::env::var("ELF_TEST_POSTGRES_URL") else {
        println!("skipping: ELF_TEST_POSTGRES_URL is not set");
        return None;
    };
    assert!(url.contains("127.0.0.1:5432"), "the proxy tests expect PostgreSQL at 127.0.0.1:5432, not {url}");
    Some("127.0.0.1:5432".parse().unwrap())
}

fn checks(port: u16) -> String {
    format!(
        "[health]\ndefault_checks = false\n[[health.checks]]\nname = \"db\"\nkind = \"resource\"\n\
         target = \"database\"\ntimeout = \"5s\"\ninterval = \"1h\"\n\
         [[probes.databases]]\nname = \"app\"\nurl = \"postgres://postgres@127.0.0.1:{port}/test\"\n\
         timeout = \"{PROBE_TIMEOUT}\"\ninterval = \"1h\"\n"
    )
}

/// One run of `db` while PostgreSQL fails: unhealthy, naming the database, within [`RUN_BOUND`].
async fn fails_fast(running: &elf_resilience_server::serve::Running, why: &str) -> String {
    let started = Instant::now();
    let message = check_until(running, "db", HealthStatus::Unhealthy).await;
    assert!(message.contains("app") && message.contains(why), "{message}");
    let r = running.state.health.run_check_now("db").await.unwrap();
    assert!(r.duration < RUN_BOUND, "one run took {:?} ({})", r.duration, r.message);
    assert!(started.elapsed() < RUN_BOUND * 3, "unhealthy only after {:?}", started.elapsed());
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_nothing_listens_for_is_critical_with_the_os_error_and_serve_answers() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (config, file) = config(dir.path(), &dir.path().join("data"), &checks(closed));
    let running = serve(&config).await;
    let message = fails_fast(&running, "refused").await;
    livez_is_fast(running.addr).await;
    let (code, health, api) = reported(running.addr, "db").await;
    assert_eq!(code, 503, "{health}");
    assert!(health.contains("refused"), "/health says why: {health}");
    // The user `postgres` of a URL without password is hidden as if it were a bare token.
    assert!(api.contains(":app: ") && api.contains("refused"), "/api/health: {api} (run: {message})");

    let out = bin(&file, &["health"]).await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("db") && said.contains("app") && said.contains("refused"), "{said}");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_database_times_out_without_holding_up_serve_and_recovers_when_it_answers() {
    let Some(pg) = postgres() else { return };
    let proxy = TcpProxy::start(pg).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, file) = config(dir.path(), &dir.path().join("data"), &checks(proxy.addr().port()));
    let running = serve(&config).await;
    check_until(&running, "db", HealthStatus::Healthy).await;

    proxy.pause();
    proxy.close_all();
    fails_fast(&running, "timed out").await;
    livez_is_fast(running.addr).await;
    let (code, health, _) = reported(running.addr, "db").await;
    assert_eq!(code, 503, "{health}");
    assert!(health.contains("app") && health.contains("timed out"), "{health}");
    let out = bin(&file, &["health"]).await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("app") && said.contains("timed out"), "{said}");

    proxy.resume();
    check_until(&running, "db", HealthStatus::Healthy).await;
    assert_eq!(reported(running.addr, "db").await.0, 200, "recovered without a restart");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_slower_than_its_timeout_is_critical_until_it_is_fast_again() {
    let Some(pg) = postgres() else { return };
    let proxy = TcpProxy::start(pg).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = config(dir.path(), &dir.path().join("data"), &checks(proxy.addr().port()));
    let running = serve(&config).await;
    check_until(&running, "db", HealthStatus::Healthy).await;

    proxy.delay(Duration::from_secs(1));
    proxy.close_all();
    let message = fails_fast(&running, "timed out").await;
    assert!(message.contains("300 ms") || message.contains("300ms"), "the configured timeout: {message}");
    livez_is_fast(running.addr).await;

    proxy.resume();
    check_until(&running, "db", HealthStatus::Healthy).await;
    running.shutdown().await.unwrap();
}
