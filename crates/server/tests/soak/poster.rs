//! The binary's share of the soak's enqueues: a thread that posts `{"n": N}` for odd `N` to
//! `POST /api/queue` of whichever `serve` is running, as far as the soak allows.
//!
//! An answer lost to a kill (the connection closed or reset after the request went out) leaves
//! the enqueue ambiguous: committed or not, the client cannot tell. The poster reports it as
//! such and moves on to the next `N` rather than posting again, so the queue never holds an `N`
//! twice. A refused connection sent nothing: the same `N` goes to the next server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

use crate::enqueuer::MAX_ATTEMPTS;

/// How long a live server may take to answer one enqueue before the soak fails.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// What the poster reports.
#[derive(Debug)]
pub enum PosterSaid {
    /// A `POST /api/queue` went out; no answer yet.
    Posting,
    /// Answered 201 with this ticket.
    Created(u64, String),
    /// The answer was lost to a kill: committed or not.
    Ambiguous(u64),
    /// Every odd `n` below the total was posted.
    Finished,
    /// A live server answered what it should not have; the soak fails with this.
    Failed(String),
}

enum Command {
    Grant(u64),
    ServeAt(SocketAddr),
}

/// The poster thread and the channel that tells it where to post and how far.
pub struct Poster {
    commands: Sender<Command>,
    thread: JoinHandle<()>,
}

impl Poster {
    /// Starts posting odd `n` below `total` with `token`, once told a server and a grant.
    pub fn start<E: Send + 'static>(
        token: String,
        total: u64,
        report: Sender<E>,
        wrap: impl Fn(PosterSaid) -> E + Send + 'static,
    ) -> Self {
        let (commands, rx) = mpsc::channel();
        let state = PostState { token, total, next: 1, grant: 0, addr: None, commands: rx };
        let thread = std::thread::spawn(move || state.run(|said| drop(report.send(wrap(said)))));
        Self { commands, thread }
    }

    /// Allows posts of `n` below `grant`.
    pub fn grant(&self, grant: u64) {
        let _ = self.commands.send(Command::Grant(grant));
    }

    /// The server to post to from now on.
    pub fn serve_at(&self, addr: SocketAddr) {
        let _ = self.commands.send(Command::ServeAt(addr));
    }

    /// Stops the thread (after its post in flight, if any) and waits for it.
    pub fn stop(self) {
        let Self { commands, thread } = self;
        drop(commands);
        thread.join().unwrap();
    }
}

struct PostState {
    token: String,
    total: u64,
    next: u64,
    grant: u64,
    addr: Option<SocketAddr>,
    commands: Receiver<Command>,
}

impl PostState {
    fn run(mut self, say: impl Fn(PosterSaid)) {
        while self.next < self.total {
            let Some(addr) = self.wait_until_allowed() else { return };
            let n = self.next;
            let said = match post(addr, &self.token, n, &say) {
                Answer::Refused => {
                    self.addr = None;
                    continue;
                }
                Answer::Created(ticket) => PosterSaid::Created(n, ticket),
                Answer::Lost => PosterSaid::Ambiguous(n),
                Answer::Unexpected(why) => return say(PosterSaid::Failed(format!("POST n={n}: {why}"))),
            };
            say(said);
            self.next += 2;
        }
        say(PosterSaid::Finished);
    }

    /// Takes every command sent so far, then waits for more while there is no server to post
    /// to or the next `n` is not granted; `None` once the soak is gone.
    fn wait_until_allowed(&mut self) -> Option<SocketAddr> {
        loop {
            let command = match self.commands.try_recv() {
                Ok(c) => c,
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => match self.addr {
                    Some(addr) if self.next < self.grant => return Some(addr),
                    _ => self.commands.recv().ok()?,
                },
            };
            match command {
                Command::Grant(g) => self.grant = self.grant.max(g),
                Command::ServeAt(addr) => self.addr = Some(addr),
            }
        }
    }
}

/// How one post ended.
enum Answer {
    /// Nothing was sent: no server listens there any more.
    Refused,
    /// 201 and the ticket.
    Created(String),
    /// The request went out and no whole answer came back.
    Lost,
    /// An answer a live server should not give.
    Unexpected(String),
}

/// One `POST /api/queue` of `{"n": n}` on a fresh connection; says `Posting` once connected.
fn post(addr: SocketAddr, token: &str, n: u64, say: &impl Fn(PosterSaid)) -> Answer {
    let Ok(mut conn) = TcpStream::connect(addr) else { return Answer::Refused };
    conn.set_read_timeout(Some(ANSWER_WITHIN)).unwrap();
    say(PosterSaid::Posting);
    if conn.write_all(request(addr, token, n).as_bytes()).is_err() {
        return Answer::Lost;
    }
    let mut answer = Vec::new();
    match conn.read_to_end(&mut answer) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
            Answer::Unexpected(format!("no answer within {ANSWER_WITHIN:?}"))
        }
        Err(_) => Answer::Lost,
        Ok(_) => parse(&String::from_utf8_lossy(&answer)),
    }
}

fn request(addr: SocketAddr, token: &str, n: u64) -> String {
    let body = json!({ "handler": "llm", "payload": { "n": n }, "max_attempts": MAX_ATTEMPTS }).to_string();
    format!(
        "POST /api/queue HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A whole 201 with a ticket is `Created`; a cut answer is `Lost`; any other status is wrong.
fn parse(answer: &str) -> Answer {
    let Some((head, body)) = answer.split_once("\r\n\r\n") else { return Answer::Lost };
    let status = head.split(' ').nth(1).unwrap_or("");
    let ticket =
        serde_json::from_str::<Value>(body).ok().and_then(|v| v["ticket"].as_str().map(str::to_owned));
    match (status, ticket) {
        ("201", Some(ticket)) => Answer::Created(ticket),
        ("201", None) => Answer::Lost,
        _ => Answer::Unexpected(format!("expected 201 with a ticket, got: {}", answer.trim())),
    }
}

#[test]
fn a_cut_answer_is_lost_and_a_refusal_is_wrong() {
    let whole = "HTTP/1.1 201 Created\r\ncontent-length: 17\r\n\r\n{\"ticket\":\"sq-7\"}";
    assert!(matches!(parse(whole), Answer::Created(t) if t == "sq-7"));
    assert!(matches!(parse(&whole[..whole.len() - 3]), Answer::Lost), "a cut body");
    assert!(matches!(parse("HTTP/1.1 201 Cre"), Answer::Lost), "a cut head");
    assert!(matches!(parse(""), Answer::Lost), "nothing at all");
    let refused = "HTTP/1.1 503 Service Unavailable\r\n\r\n{\"error\":\"the request queue\"}";
    assert!(matches!(parse(refused), Answer::Unexpected(why) if why.contains("503")));
}
