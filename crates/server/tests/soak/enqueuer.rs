//! The library process of the soak: this test binary run again with `ELF_SOAK_ENQUEUE_INTO`
//! set enqueues requests `{"n": 0}`, `{"n": 2}`, `{"n": 4}`, … (the even `n`: the odd ones go
//! through `serve`'s HTTP API) through the store crate, as far as the parent allows, and says
//! so on its standard output. Killed and started again, it resumes after the last even `n` the
//! queue holds: an enqueue is either committed or not.
//!
//! Protocol. The parent writes lines `G` on its standard input: enqueue up to (not including)
//! `n = G`. The child prints `soak-resumed N` once (the first `n` it will enqueue),
//! `soak-enqueued N TICKET` after each commit and `soak-finished` when all are in.

use std::io::{BufRead, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Sender;
use std::time::SystemTime;

use elf_resilience::{EnqueueRequest, RequestQueue};
use serde_json::json;

use crate::support::open_queue;

const INTO: &str = "ELF_SOAK_ENQUEUE_INTO";
const TOTAL: &str = "ELF_SOAK_ENQUEUE_TOTAL";
/// Enough attempts that no number of kills dead-letters a request.
pub const MAX_ATTEMPTS: u32 = 1000;
/// The library's share: every second `n`, from 0.
pub const EVERY: u64 = 2;

/// The library's first `n` not yet in `queue`.
fn resume_point(queue: &dyn RequestQueue) -> u64 {
    let all = queue.list(None, usize::MAX).unwrap();
    let ours = all.iter().filter_map(|r| r.payload["n"].as_u64()).filter(|n| n % EVERY == 0);
    ours.max().map_or(0, |n| n + EVERY)
}

/// Enqueues the library's `n` from where `queue` stopped up to `total`, as far as each line of `grants`
/// allows, reporting on `out`.
fn enqueue_granted(queue: &dyn RequestQueue, total: u64, grants: impl BufRead, mut out: impl Write) {
    let mut next = resume_point(queue);
    writeln!(out, "soak-resumed {next}").unwrap();
    for line in grants.lines() {
        let grant: u64 = line.unwrap().trim().parse().expect("a grant is a number");
        while next < grant.min(total) {
            let req = EnqueueRequest::new("llm", json!({ "n": next })).max_attempts(MAX_ATTEMPTS);
            let ticket = queue.enqueue(req, SystemTime::now()).unwrap();
            writeln!(out, "soak-enqueued {next} {ticket}").unwrap();
            out.flush().unwrap();
            next += EVERY;
        }
        if next >= total {
            writeln!(out, "soak-finished").unwrap();
            return;
        }
    }
}

/// In the child: the enqueuer. Otherwise: the enqueuer's own check, in this process.
#[test]
fn enqueuer_resumes_after_the_last_committed_request() {
    if let Ok(spec) = std::env::var(INTO) {
        let total = std::env::var(TOTAL).unwrap().parse().unwrap();
        enqueue_granted(&*open_queue(&spec), total, std::io::stdin().lock(), std::io::stdout().lock());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let queue = open_queue(&format!("sqlite {}", dir.path().join("queue.db").display()));
    let mut said = Vec::new();
    enqueue_granted(&*queue, 9, &b"4\n"[..], &mut said);
    queue.enqueue(EnqueueRequest::new("llm", json!({ "n": 5 })), SystemTime::now()).unwrap();
    enqueue_granted(&*queue, 9, &b"8\n20\n"[..], &mut said);
    let said = String::from_utf8(said).unwrap();
    let lines: Vec<&str> = said.lines().map(|l| l.rsplit_once(" sq-").map_or(l, |(head, _)| head)).collect();
    assert_eq!(
        lines,
        [
            "soak-resumed 0",
            "soak-enqueued 0",
            "soak-enqueued 2",
            "soak-resumed 4",
            "soak-enqueued 4",
            "soak-enqueued 6",
            "soak-enqueued 8",
            "soak-finished"
        ]
    );
    let ns: Vec<_> = queue.list(None, 100).unwrap().iter().map(|r| r.payload["n"].as_u64()).collect();
    let expected = [0, 2, 5, 4, 6, 8].map(Some);
    assert_eq!(
        ns, expected,
        "each request once, in order; an odd one (the binary's) does not move the resume point"
    );
}

/// What the enqueuer child says.
#[derive(Debug)]
pub enum EnqueuerSaid {
    Resumed(u64),
    Enqueued(u64),
    Finished,
}

/// The enqueuer child and the pipe its grants go through.
pub struct Enqueuer {
    child: Child,
    grants: ChildStdin,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Enqueuer {
    /// Starts this test binary as the enqueuer of `total` requests into the queue `spec` names.
    pub fn start<E: Send + 'static>(
        spec: &str,
        total: u64,
        report: Sender<E>,
        wrap: impl Fn(EnqueuerSaid) -> E + Send + 'static,
    ) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "enqueuer::enqueuer_resumes_after_the_last_committed_request"])
            .args(["--nocapture", "--quiet", "--test-threads=1"])
            .env(INTO, spec)
            .env(TOTAL, total.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let grants = child.stdin.take().unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let reader = std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let said = match line.split(' ').collect::<Vec<_>>()[..] {
                    ["soak-resumed", n] => EnqueuerSaid::Resumed(n.parse().unwrap()),
                    ["soak-enqueued", n, _] => EnqueuerSaid::Enqueued(n.parse().unwrap()),
                    ["soak-finished"] => EnqueuerSaid::Finished,
                    _ => continue,
                };
                let _ = report.send(wrap(said));
            }
        });
        Self { child, grants, reader: Some(reader) }
    }

    /// Allows enqueues up to `n`; a child that is gone is not an error here.
    pub fn grant(&mut self, n: u64) {
        let _ = writeln!(self.grants, "{n}").and_then(|()| self.grants.flush());
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// `kill -9`, and waits until it is gone and all it printed is reported.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
    }
}
