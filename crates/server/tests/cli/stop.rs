//! Stopping `serve` with signals, the real binary against a loopback queue handler: a delivery
//! in flight finishes within `[server] shutdown_grace` or is released unspent, the exit code is
//! 0, and a second signal stops at once.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant, SystemTime};

use elf_resilience::{EnqueueRequest, RequestQueue, SqliteQueue, Ticket, TicketStatus};
use tokio::sync::{mpsc, watch};

/// Long enough for any honest wait on this machine; a test that hits it has failed.
const DEADLINE: Duration = Duration::from_secs(30);

/// A handler on loopback that reports each POST, then answers 200 once `answer` turns true.
async fn handler() -> (std::net::SocketAddr, mpsc::UnboundedReceiver<()>, watch::Sender<bool>) {
    let (got, received) = mpsc::unbounded_channel();
    let (answer, answered) = watch::channel(false);
    let app = axum::Router::new().route(
        "/replay",
        axum::routing::post(move || {
            let (got, mut answered) = (got.clone(), answered.clone());
            async move {
                let _ = got.send(());
                let _ = answered.wait_for(|a| *a).await;
                "{\"ok\":true}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, received, answer)
}

/// The server as a child: its pid, its stderr lines, and its exit status once it exits.
struct Serving {
    pid: String,
    lines: std_mpsc::Receiver<String>,
    exited: std_mpsc::Receiver<ExitStatus>,
}

impl Serving {
    fn start(dir: &Path, handler: std::net::SocketAddr, grace: &str) -> Self {
        let config = format!(
            "[storage]\ndata_dir = \"{}\"\n[server]\nshutdown_grace = \"{grace}\"\n\
             [health]\ndefault_checks = false\n[queue]\ninterval = \"100ms\"\n\
             [[queue.handlers]]\nname = \"llm\"\nresource = \"mcp_server\"\ntimeout = \"50s\"\n\
             url = \"http://{handler}/replay\"\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("elf-resilience.toml"), config).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_elf-resilience"))
            .current_dir(dir)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env_remove("ELF_RESILIENCE_CONFIG")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = out.next().expect("serve prints its address").unwrap();
        assert!(first.contains("listening on"), "{first}");
        let (line, lines) = std_mpsc::channel();
        let err = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || err.lines().map_while(Result::ok).try_for_each(|l| line.send(l)));
        let (exit, exited) = std_mpsc::channel();
        let pid = child.id().to_string();
        std::thread::spawn(move || exit.send(child.wait().unwrap()));
        Self { pid, lines, exited }
    }

    fn signal(&self, name: &str) {
        assert!(Command::new("kill").args([&format!("-{name}"), &self.pid]).status().unwrap().success());
    }

    /// Waits until the server logs a line containing `needle`.
    fn wait_for_line(&self, needle: &str) {
        let until = Instant::now() + DEADLINE;
        while let Ok(line) = self.lines.recv_timeout(until.saturating_duration_since(Instant::now())) {
            if line.contains(needle) {
                return;
            }
        }
        panic!("the server never logged `{needle}`");
    }

    fn exit_status(&self) -> ExitStatus {
        self.exited.recv_timeout(DEADLINE).expect("the server exits")
    }
}

fn enqueue(dir: &Path) -> Ticket {
    let queue = SqliteQueue::open(dir.join("data/queue.db")).unwrap();
    queue.enqueue(EnqueueRequest::new("llm", serde_json::json!({"prompt": "hi"})), SystemTime::now()).unwrap()
}

fn stored(dir: &Path, ticket: &Ticket) -> elf_resilience::QueuedRequest {
    SqliteQueue::open(dir.join("data/queue.db")).unwrap().get(ticket).unwrap().unwrap()
}

async fn delivered(received: &mut mpsc::UnboundedReceiver<()>) {
    tokio::time::timeout(DEADLINE, received.recv()).await.expect("the request is delivered").unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_releases_a_delivery_that_outlasts_the_grace_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let ticket = enqueue(dir.path());
    let (addr, mut received, _never) = handler().await;
    let server = Serving::start(dir.path(), addr, "2s");
    delivered(&mut received).await;
    let asked = Instant::now();
    server.signal("TERM");
    let status = server.exit_status();
    let took = asked.elapsed();
    assert_eq!(status.code(), Some(0), "a graceful stop exits 0");
    assert!(took < Duration::from_millis(2900), "stopped within the 2 s grace (and teardown): {took:?}");
    assert!(took >= Duration::from_millis(1500), "the delivery was given its grace first: {took:?}");
    let back = stored(dir.path(), &ticket);
    assert_eq!((back.status, back.attempts, back.released), (TicketStatus::Pending, 1, 1), "{back:?}");
    assert_eq!(back.failures(), 0, "the cut delivery spent no attempt");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_a_delivery_that_answers_within_the_grace_finish() {
    let dir = tempfile::tempdir().unwrap();
    let ticket = enqueue(dir.path());
    let (addr, mut received, answer) = handler().await;
    let server = Serving::start(dir.path(), addr, "10s");
    delivered(&mut received).await;
    server.signal("TERM");
    server.wait_for_line("stopping");
    answer.send(true).unwrap();
    assert_eq!(server.exit_status().code(), Some(0));
    let done = stored(dir.path(), &ticket);
    assert_eq!((done.status, done.result), (TicketStatus::Done, Some(serde_json::json!({"ok": true}))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    enqueue(dir.path());
    let (addr, mut received, _never) = handler().await;
    let server = Serving::start(dir.path(), addr, "60s");
    delivered(&mut received).await;
    let asked = Instant::now();
    server.signal("HUP");
    server.wait_for_line("stopping");
    server.signal("INT");
    assert_eq!(server.exit_status().code(), Some(130), "the documented code of a forced stop");
    assert!(asked.elapsed() < Duration::from_secs(20), "well before the 60 s grace: {:?}", asked.elapsed());
}
