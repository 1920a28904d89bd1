//! Several processes on one data directory: two `serve` replaying one queue, `serve` beside a
//! library process that enqueues and consumes, and a second `serve` on a port already taken.
//! Leases are atomic (an immediate SQLite transaction, a Redis transaction watching the
//! queue's version), so with no process dying each request is delivered exactly once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant, SystemTime};

use elf_resilience::{
    EnqueueRequest, QueueWorker, RequestQueue, ResourceType, StaticGate, Ticket, TicketStatus,
};
use serde_json::{Value, json};

use crate::support::{Delivery, Serve, ServeSaid, Store, receiver};

const REQUESTS: u64 = 300;
/// Long enough that no lease expires while its delivery is under way.
const LEASE_FOR: &str = "10s";
const DEADLINE: Duration = Duration::from_secs(120);

/// Who delivered a request, and which.
#[derive(Debug)]
enum Event {
    /// `serve` POSTed it to the receiver.
    Received(Delivery),
    /// The library's worker in this process handled it.
    Consumed(Delivery),
    Serve(u32, ServeSaid),
}

fn next(events: &Receiver<Event>, deadline: Instant) -> Event {
    let left = deadline.saturating_duration_since(Instant::now());
    events.recv_timeout(left).expect("an event before the deadline")
}

/// Starts `count` servers on `config` and returns them once each listens, with their addresses.
fn serves(
    config: &Path,
    logs: &Path,
    count: u32,
    tx: &Sender<Event>,
    events: &Receiver<Event>,
) -> (Vec<Serve>, Vec<SocketAddr>) {
    let started: Vec<Serve> = (0..count)
        .map(|i| {
            let log = logs.join(format!("serve-{i}.log"));
            Serve::start(config, &[], log, tx.clone(), move |said| Event::Serve(i, said))
        })
        .collect();
    let mut addrs = vec![None; count as usize];
    let deadline = Instant::now() + DEADLINE;
    while addrs.iter().any(Option::is_none) {
        match next(events, deadline) {
            Event::Serve(i, ServeSaid::Listening(addr)) => addrs[i as usize] = Some(addr),
            Event::Serve(i, ServeSaid::Exited) => panic!(
                "serve #{i} exited at start:\n{}",
                Serve::log_tail(&logs.join(format!("serve-{i}.log")))
            ),
            other => panic!("unexpected before the servers listen: {other:?}"),
        }
    }
    (started, addrs.into_iter().map(Option::unwrap).collect())
}

fn enqueue(queue: &dyn RequestQueue, n: u64) -> Ticket {
    queue.enqueue(EnqueueRequest::new("llm", json!({ "n": n })), SystemTime::now()).unwrap()
}

type ByKey = HashMap<String, Vec<&'static str>>;

/// Collects deliveries until every ticket in `tickets` is done; returns who delivered what.
fn collect(events: &Receiver<Event>, queue: &dyn RequestQueue, tickets: &[Ticket]) -> ByKey {
    collect_more(events, queue, tickets, ByKey::new())
}

/// [`collect`], adding to deliveries already seen.
fn collect_more(
    events: &Receiver<Event>,
    queue: &dyn RequestQueue,
    tickets: &[Ticket],
    mut by_key: ByKey,
) -> ByKey {
    let deadline = Instant::now() + DEADLINE;
    let done = || tickets.iter().all(|t| queue.status(t).unwrap() == Some(TicketStatus::Done));
    while by_key.len() < tickets.len() || !done() {
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::Received(d)) => by_key.entry(d.key).or_default().push("serve"),
            Ok(Event::Consumed(d)) => by_key.entry(d.key).or_default().push("library"),
            Ok(Event::Serve(i, ServeSaid::Exited)) => panic!("serve #{i} exited"),
            Ok(Event::Serve(..)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("{e}"),
        }
        assert!(Instant::now() < deadline, "{} of {} delivered in time", by_key.len(), tickets.len());
    }
    by_key
}

fn assert_each_once(by_key: &ByKey, tickets: &[Ticket]) {
    for t in tickets {
        let who = by_key.get(&t.0).map_or(&[][..], Vec::as_slice);
        assert_eq!(who.len(), 1, "{t} was delivered {} times, by {who:?}", who.len());
    }
    assert_eq!(by_key.len(), tickets.len(), "only enqueued tickets were delivered");
}

/// `succeeded` in a server's `/api/queue`.
fn succeeded(addr: SocketAddr) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let v: Value = rt.block_on(async {
        reqwest::get(format!("http://{addr}/api/queue")).await.unwrap().json().await.unwrap()
    });
    v["worker"]["totals"]["succeeded"].as_u64().unwrap_or_else(|| panic!("no worker totals: {v}"))
}

/// The status of an authenticated command (resetting a breaker) sent to `addr` with `token`.
fn command_status(addr: SocketAddr, token: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let url = format!("http://{addr}/api/breakers/soak/reset");
        reqwest::Client::new().post(url).bearer_auth(token).send().await.unwrap().status().as_u16()
    })
}

/// Both servers, started at once without a configured token, took the one in `token`.
fn assert_one_token(dir: &Path, addrs: &[SocketAddr]) {
    let token = std::fs::read_to_string(dir.join("token")).unwrap();
    for &addr in addrs {
        assert_ne!(command_status(addr, token.trim()), 401, "{addr} takes the token in the data directory");
        assert_eq!(command_status(addr, "not-the-token-0123456789"), 401, "{addr} refuses another");
    }
}

/// No server warned or failed: no pass lost to a locked database, no request to a bad decode.
fn assert_quiet(logs: &Path) {
    for entry in std::fs::read_dir(logs).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let loud: Vec<&str> =
            text.lines().filter(|l| l.contains(" WARN ") || l.contains(" ERROR ")).collect();
        assert!(loud.is_empty(), "{}:\n{}", path.display(), loud.join("\n"));
    }
}

fn two_serves(store: &Store) {
    let (tx, events) = mpsc::channel();
    let config = store.write_config(receiver(tx.clone(), Event::Received), LEASE_FOR);
    let logs = tempfile::tempdir().unwrap();
    let (servers, addrs) = serves(&config, logs.path(), 2, &tx, &events);
    let queue = store.queue();
    let tickets: Vec<Ticket> = (0..REQUESTS).map(|n| enqueue(&*queue, n)).collect();
    let by_key = collect(&events, &*queue, &tickets);
    assert_each_once(&by_key, &tickets);
    let split: Vec<u64> = addrs.iter().map(|&a| succeeded(a)).collect();
    println!("two serves on one queue: {REQUESTS} requests, delivered {split:?}, duplicates 0");
    assert_eq!(split.iter().sum::<u64>(), REQUESTS, "the servers' totals add up: {split:?}");
    assert!(split.iter().all(|&s| s > 0), "both servers replayed: {split:?}");
    assert_one_token(store.dir(), &addrs);
    for s in servers {
        assert!(s.terminate().success());
    }
    assert_quiet(logs.path());
    store.assert_undamaged();
}

#[test]
fn two_serves_on_one_data_directory_deliver_each_request_once_with_sqlite() {
    two_serves(&Store::sqlite());
}

#[test]
fn two_serves_on_one_redis_queue_deliver_each_request_once() {
    let Some(store) = Store::redis() else { return };
    two_serves(&store);
}

/// The library's consumer in this process: a [`QueueWorker`] whose handler reports each
/// request and answers `{"by": "library"}`.
fn library_worker(queue: Arc<dyn RequestQueue>, tx: Sender<Event>) -> QueueWorker {
    let tx = std::sync::Mutex::new(tx);
    QueueWorker::new(queue, Arc::new(StaticGate::new())).lease_for(Duration::from_secs(10)).register(
        "llm",
        ResourceType::ApiQuota,
        move |payload, ctx| {
            let key = ctx.get_tag(QueueWorker::TICKET_TAG).unwrap_or_default().to_owned();
            let n = payload["n"].as_u64().unwrap_or(u64::MAX);
            let _ = tx.lock().unwrap().send(Event::Consumed(Delivery { key, n }));
            async { Ok(json!({ "by": "library" })) }
        },
    )
}

fn serve_and_library(store: &Store) {
    let (tx, events) = mpsc::channel();
    let config = store.write_config(receiver(tx.clone(), Event::Received), LEASE_FOR);
    let logs = tempfile::tempdir().unwrap();
    let (servers, _) = serves(&config, logs.path(), 1, &tx, &events);
    let queue = store.queue();
    let mut tickets: Vec<Ticket> = (0..REQUESTS / 2).map(|n| enqueue(&*queue, n)).collect();
    // The library starts consuming once serve has, so both have a share to deliver.
    let first = match next(&events, Instant::now() + DEADLINE) {
        Event::Received(d) => d,
        other => panic!("expected serve's first delivery, found {other:?}"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = library_worker(queue.clone(), tx.clone());
    let consumer = rt.spawn(async move {
        worker.run(Duration::from_millis(20), async { drop(stopped.await) }).await.unwrap();
    });
    tickets.extend((REQUESTS / 2..REQUESTS).map(|n| enqueue(&*queue, n)));
    let by_key = collect_more(&events, &*queue, &tickets, ByKey::from([(first.key, vec!["serve"])]));
    let _ = stop.send(());
    rt.block_on(consumer).unwrap();
    assert_each_once(&by_key, &tickets);
    for t in &tickets {
        let result = queue.get(t).unwrap().unwrap().result.unwrap();
        let by = if result == json!({"by": "library"}) { "library" } else { "serve" };
        assert_eq!(by_key[&t.0], [by], "{t}'s result is from the one that delivered it: {result}");
    }
    let library = by_key.values().filter(|w| w[0] == "library").count();
    println!(
        "serve beside a library consumer: {REQUESTS} requests, library {library}, serve {}",
        by_key.len() - library
    );
    assert!(library > 0 && library < tickets.len(), "both consumed: library {library} of {}", tickets.len());
    for s in servers {
        assert!(s.terminate().success());
    }
    assert_quiet(logs.path());
    store.assert_undamaged();
}

#[test]
fn serve_and_a_library_process_share_one_sqlite_queue() {
    serve_and_library(&Store::sqlite());
}

#[test]
fn serve_and_a_library_process_share_one_redis_queue() {
    let Some(store) = Store::redis() else { return };
    serve_and_library(&store);
}

/// `serve --bind ADDR` run to its end (killed if it is still running after the deadline).
fn serve_on(config: &Path, addr: SocketAddr) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_elf-resilience"))
        .env_remove("ELF_RESILIENCE_CONFIG")
        .env_remove("RUST_LOG")
        .arg("--config")
        .arg(config)
        .args(["serve", "--bind", &addr.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
    rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        panic!("a second serve on {addr} kept running")
    })
}

/// Everything the queue holds, as comparable text.
fn snapshot(queue: &dyn RequestQueue) -> Vec<String> {
    let all = queue.list(None, usize::MAX).unwrap();
    all.iter().map(|r| format!("{} {:?} {} {:?}", r.ticket, r.status, r.attempts, r.result)).collect()
}

#[test]
fn a_second_serve_on_a_taken_port_fails_clearly_and_damages_nothing() {
    let store = Store::sqlite();
    let (tx, events) = mpsc::channel();
    let config = store.write_config(receiver(tx.clone(), Event::Received), LEASE_FOR);
    let logs = tempfile::tempdir().unwrap();
    let (mut servers, addrs) = serves(&config, logs.path(), 1, &tx, &events);
    let queue = store.queue();
    let tickets: Vec<Ticket> = (0..20).map(|n| enqueue(&*queue, n)).collect();
    assert_each_once(&collect(&events, &*queue, &tickets), &tickets);
    let token = std::fs::read_to_string(store.dir().join("token")).unwrap();
    let before = snapshot(&*queue);

    let second = serve_on(&config, addrs[0]);
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("cannot listen on {}", addrs[0])), "says where: {err}");
    assert!(err.contains("in use"), "says why: {err}");
    assert!(
        second.stdout.is_empty(),
        "it never said it listens: {}",
        String::from_utf8_lossy(&second.stdout)
    );

    assert_eq!(snapshot(&*queue), before, "the queue is as it was");
    assert_eq!(std::fs::read_to_string(store.dir().join("token")).unwrap(), token, "the token is kept");
    let late = [enqueue(&*queue, 20)];
    assert_each_once(&collect(&events, &*queue, &late), &late);
    assert_eq!(succeeded(addrs[0]), 21, "the first server still serves and replays");
    assert!(servers.remove(0).terminate().success());
    store.assert_undamaged();
}
