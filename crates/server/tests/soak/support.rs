//! The parts the soak tests share: where the queue lives (SQLite or a private Redis), a
//! loopback receiver that reports every delivery, and `serve` as a child process.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc::Sender;

use axum::http::HeaderMap;
use elf_resilience::{QueuedRequest, RedisQueue, RequestQueue, SqliteQueue};
use elf_resilience_store::PrivateRedis;
use serde_json::Value;

/// Where the queue is: `queue.db` in the data directory, or a private `redis-server`.
pub enum Store {
    Sqlite { dir: tempfile::TempDir },
    Redis { dir: tempfile::TempDir, redis: PrivateRedis, prefix: String },
}

impl Store {
    /// A fresh data directory with the queue in SQLite.
    pub fn sqlite() -> Self {
        Self::Sqlite { dir: tempfile::tempdir().unwrap() }
    }

    /// A fresh data directory with the queue in a private Redis; `None` (saying why) when
    /// `redis-server` is not installed.
    pub fn redis() -> Option<Self> {
        let Some(redis) = PrivateRedis::start(PrivateRedis::free_port()) else {
            println!("skipping: redis-server is not installed");
            return None;
        };
        Some(Self::Redis { dir: tempfile::tempdir().unwrap(), redis, prefix: "elf-soak".into() })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        match self {
            Self::Sqlite { dir } | Self::Redis { dir, .. } => dir.path(),
        }
    }

    /// The `[storage]` section.
    fn storage(&self) -> String {
        let dir = format!("{:?}", self.dir().display().to_string());
        match self {
            Self::Sqlite { .. } => format!("[storage]\ndata_dir = {dir}\n"),
            Self::Redis { redis, prefix, .. } => format!(
                "[storage]\ndata_dir = {dir}\nredis_url = \"{}\"\nredis_prefix = \"{prefix}\"\n",
                redis.url()
            ),
        }
    }

    /// Writes a config whose one handler `llm` is the receiver at `handler`, with a short lease
    /// and interval so a killed server's request is soon delivered again; returns its path.
    pub fn write_config(&self, handler: SocketAddr, lease_for: &str) -> PathBuf {
        let text = format!(
            "{}[server]\nbind = \"127.0.0.1:0\"\n[health]\ndefault_checks = false\n\
             [queue]\ninterval = \"20ms\"\nretry_in = \"100ms\"\nlease_for = \"{lease_for}\"\n\
             [[queue.handlers]]\nname = \"llm\"\nurl = \"http://{handler}/replay\"\ntimeout = \"1500ms\"\n",
            self.storage(),
        );
        let path = self.dir().join("elf-resilience.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// How a child process finds the queue: `sqlite PATH` or `redis URL PREFIX`.
    pub fn spec(&self) -> String {
        match self {
            Self::Sqlite { dir } => format!("sqlite {}", dir.path().join("queue.db").display()),
            Self::Redis { redis, prefix, .. } => format!("redis {} {prefix}:queue", redis.url()),
        }
    }

    /// The queue, opened the way a library user's process opens it.
    pub fn queue(&self) -> Arc<dyn RequestQueue> {
        open_queue(&self.spec())
    }

    /// Every SQLite file in the data directory passes `PRAGMA integrity_check`, and with Redis
    /// every stored request decodes and every queue index names a stored request.
    pub fn assert_undamaged(&self) {
        let mut checked = 0;
        for entry in std::fs::read_dir(self.dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "db") {
                assert_eq!(integrity(&path), "ok", "{} is damaged", path.display());
                checked += 1;
            }
        }
        assert!(checked > 0, "no SQLite file in the data directory to check");
        if let Self::Redis { redis, prefix, .. } = self {
            assert_redis_keys_decode(&redis.url(), &format!("{prefix}:queue"));
        }
    }
}

/// Opens the queue a [`Store::spec`] names.
pub fn open_queue(spec: &str) -> Arc<dyn RequestQueue> {
    let parts: Vec<&str> = spec.split(' ').collect();
    match parts[..] {
        ["sqlite", path] => Arc::new(SqliteQueue::open(path).unwrap()),
        ["redis", url, prefix] => Arc::new(RedisQueue::open(url, prefix).unwrap()),
        _ => panic!("expected `sqlite PATH` or `redis URL PREFIX`, found `{spec}`"),
    }
}

fn integrity(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

/// Every `P:req:ID` holds a request that decodes, and `P:all` and `P:open` hold only IDs
/// whose request is stored.
fn assert_redis_keys_decode(url: &str, prefix: &str) {
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:req:*")).query(&mut c).unwrap();
    let mut ids = BTreeSet::new();
    for key in &keys {
        let text: String = redis::cmd("GET").arg(key).query(&mut c).unwrap();
        let decoded = serde_json::from_str::<QueuedRequest>(&text);
        assert!(decoded.is_ok(), "{key} does not decode ({decoded:?}): {text}");
        ids.insert(key.rsplit(':').next().unwrap().parse::<u64>().unwrap());
    }
    for index in ["all", "open"] {
        let members: Vec<u64> =
            redis::cmd("ZRANGE").arg(format!("{prefix}:{index}")).arg(0).arg(-1).query(&mut c).unwrap();
        let dangling: Vec<_> = members.iter().filter(|id| !ids.contains(id)).collect();
        assert!(dangling.is_empty(), "{prefix}:{index} names requests that are not stored: {dangling:?}");
    }
}

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `Idempotency-Key`: the ticket.
    pub key: String,
    /// The payload's `n`.
    pub n: u64,
}

/// A loopback handler on its own runtime thread, answering 200 to every POST to `/replay` and
/// sending each delivery through `report` (mapped to the caller's event type).
pub fn receiver<E: Send + 'static>(report: Sender<E>, wrap: fn(Delivery) -> E) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let report = std::sync::Mutex::new(report);
    let record = Arc::new(move |headers: HeaderMap, body: Value| {
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let n = body["n"].as_u64().unwrap_or(u64::MAX);
        let _ = report.lock().unwrap().send(wrap(Delivery { key, n }));
    });
    let app = axum::Router::new().route(
        "/replay",
        axum::routing::post(move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
            record(headers, body);
            async { "{\"ok\":true}" }
        }),
    );
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// What a `serve` child says on its standard output.
#[derive(Debug)]
pub enum ServeSaid {
    /// It listens at this address.
    Listening(SocketAddr),
    /// Its output closed: it exited.
    Exited,
}

/// A `serve` child; its standard error goes to `log`.
pub struct Serve {
    pub child: Child,
    pub log: PathBuf,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Serve {
    /// Starts `elf-resilience --config CONFIG serve ARGS`; what it prints is sent through
    /// `report` (mapped to the caller's event type).
    pub fn start<E: Send + 'static>(
        config: &Path,
        args: &[&str],
        log: PathBuf,
        report: Sender<E>,
        wrap: impl Fn(ServeSaid) -> E + Send + 'static,
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_elf-resilience"))
            .env_remove("ELF_RESILIENCE_CONFIG")
            .env_remove("ELF_RESILIENCE_TOKEN")
            .env_remove("RUST_LOG")
            .arg("--config")
            .arg(config)
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let reader = std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("elf-resilience listening on http://") {
                    let _ = report.send(wrap(ServeSaid::Listening(addr.parse().unwrap())));
                }
            }
            let _ = report.send(wrap(ServeSaid::Exited));
        });
        Self { child, log, reader: Some(reader) }
    }

    /// `kill -9`, and waits until it is gone and its output read.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
    }

    /// SIGTERM, and its exit status once it is gone.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        status
    }

    /// The tail of its log, for a failure message.
    pub fn log_tail(path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}
