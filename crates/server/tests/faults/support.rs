//! Pieces shared by the fault tests: a running `serve` from config text, waiting on a
//! condition with an overall deadline, and the server's endpoints.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use elf_resilience::HealthStatus;
use elf_resilience_server::config::Config;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::serve::{self, Running};
use serde_json::Value;

/// The bearer token of every test server.
pub const TOKEN: &str = "tok-faults-0123456789";
/// How long any condition may take to come true before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Writes `[server]` and `[storage] data_dir` before `extra`, to `dir/elf-resilience.toml`
/// (for the binary), and parses it.
pub fn config(dir: &Path, data_dir: &Path, extra: &str) -> (Config, std::path::PathBuf) {
    let text = format!(
        "[server]\nbind = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n[storage]\ndata_dir = {:?}\n{extra}",
        data_dir.display().to_string()
    );
    let path = dir.join("elf-resilience.toml");
    std::fs::write(&path, &text).unwrap();
    (Config::parse(&text, &path).unwrap_or_else(|e| panic!("{e}\n{text}")), path)
}

/// `serve` over `config`, listening on a free loopback port.
pub async fn serve(config: &Config) -> Running {
    serve::start(config, config.server.bind(), Redactor::from_config(config, &[])).await.unwrap()
}

/// Runs `check` until it gives `Some`, failing the test after [`DEADLINE`] with `what`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let found = async {
        loop {
            if let Some(t) = check().await {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(20)).await; // between polls only
        }
    };
    tokio::time::timeout(DEADLINE, found).await.unwrap_or_else(|_| panic!("never came true: {what}"))
}

/// Runs the check `name` now until it is `want` (after hysteresis, so `/health` says so too);
/// returns the last run's message.
pub async fn check_until(running: &Running, name: &str, want: HealthStatus) -> String {
    eventually(&format!("check `{name}` is {want:?}"), || async {
        let r = running.state.health.run_check_now(name).await.unwrap();
        (r.status == want && r.check_status == want).then_some(r.message)
    })
    .await
}

/// GET `path` of the server: the status code and the body as JSON (`Null` when not JSON).
pub async fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

/// `/livez` answers 200, and quickly: it never waits on a dependency.
pub async fn livez_is_fast(addr: SocketAddr) {
    let started = Instant::now();
    let r = reqwest::get(format!("http://{addr}/livez")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let took = started.elapsed();
    assert!(took < Duration::from_millis(500), "/livez took {took:?}");
}

/// The message `/health` and `/api/health` give for check `name`, with `/health`'s status code.
pub async fn reported(addr: SocketAddr, name: &str) -> (u16, String, String) {
    let (code, health) = get(addr, "/health").await;
    let (_, api) = get(addr, "/api/health").await;
    let api_message = api["checks"][name]["message"].as_str().unwrap_or_default().to_owned();
    (code, health.to_string(), api_message)
}

/// The binary with `--config path` and `args`, run off the async threads.
pub async fn bin(path: &Path, args: &[&str]) -> std::process::Output {
    let (path, args): (_, Vec<String>) = (path.to_owned(), args.iter().map(|a| (*a).to_owned()).collect());
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_elf-resilience"))
            .env_remove("ELF_RESILIENCE_CONFIG")
            .env_remove("RUST_LOG")
            .arg("--config")
            .arg(path)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// One delivery a [`receiver`] got.
#[derive(Debug)]
pub struct Received {
    pub body: Value,
}

/// A loopback queue handler answering every POST to `/replay` with the status in the returned
/// cell (`status` at first), forwarding each JSON body it gets.
#[allow(dead_code)] // not every fault needs a queue handler
pub async fn receiver(
    status: u16,
) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Received>, std::sync::Arc<std::sync::atomic::AtomicU16>)
{
    use std::sync::atomic::Ordering;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let code = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(status));
    let answer = code.clone();
    let app = axum::Router::new().route(
        "/replay",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let (tx, answer) = (tx.clone(), answer.clone());
            async move {
                let _ = tx.send(Received { body });
                let code = axum::http::StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap();
                (code, "{\"ok\":true}")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx, code)
}
