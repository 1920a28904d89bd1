//! A real `serve` on 127.0.0.1:0 and requests written byte by byte on a socket, for the tests
//! of what arrives on the wire: slow clients, oversized and malformed bodies, stalled stores.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use elf_resilience_server::config::Config;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::serve::{self, Running};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const TOKEN: &str = "tok-wire-0123456789";

/// How long any one wait of these tests may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// `serve` over a fresh data directory, `server_keys` in its `[server]` table and `extra`
/// (whole tables) after it.
pub async fn start(server_keys: &str, extra: &str) -> (Running, tempfile::TempDir) {
    start_full(server_keys, "", extra).await
}

/// Like [`start`], with `storage_keys` in the `[storage]` table too.
pub async fn start_full(server_keys: &str, storage_keys: &str, extra: &str) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[storage]\ndata_dir = {:?}\n{storage_keys}\n[server]\nbind = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
         {server_keys}\n[health]\ndefault_checks = false\n{extra}",
        dir.path().join("data")
    );
    let config = Config::parse(&text, Path::new("wire.toml")).unwrap();
    let running =
        serve::start(&config, config.server.bind(), Redactor::from_config(&config, &[])).await.unwrap();
    (running, dir)
}

/// An answer: status, headers (lowercased names) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The body as JSON; panics with the answer when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }

    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Writes `raw` (a whole request, `Connection: close` included) and reads the answer to EOF.
pub async fn send(addr: SocketAddr, raw: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    read_answer(&mut stream).await
}

/// Reads one answer to EOF (the server closes: `Connection: close`, or a refused body).
pub async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(DEADLINE, async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("no answer in time");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("{head}"));
    Answer { status, head: head.to_owned(), body: body.to_owned() }
}

/// A request with `Connection: close`; `headers` are whole lines without the line end.
pub fn request(method: &str, path: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for h in headers {
        raw.push_str(h);
        raw.push_str("\r\n");
    }
    if !body.is_empty() || method != "GET" {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    raw.into_bytes()
}

/// `GET path` and its answer.
pub async fn get(addr: SocketAddr, path: &str) -> Answer {
    send(addr, &request("GET", path, &[], "")).await
}

/// The bearer header line.
pub fn bearer() -> String {
    format!("Authorization: Bearer {TOKEN}")
}
