//! A private `redis-server` for tests (feature `testing`): started on its own loopback port
//! without persistence, ready once it says so on its standard output, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::process::{Child, Command, Stdio};

/// A `redis-server` this process started, for tests that kill and restart Redis.
///
/// ```no_run
/// use elf_resilience_store::PrivateRedis;
///
/// let port = PrivateRedis::free_port();
/// let Some(redis) = PrivateRedis::start(port) else { return }; // redis-server not installed
/// let url = redis.url();
/// redis.kill(); // and `PrivateRedis::start(port)` again, its data gone
/// ```
#[derive(Debug)]
pub struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    /// Starts `redis-server` on `port` of 127.0.0.1 and returns once it accepts connections;
    /// `None` when `redis-server` is not installed. Panics if it exits before it is ready.
    pub fn start(port: u16) -> Option<Self> {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdout = child.stdout.take()?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines.by_ref().map_while(Result::ok).any(|l| l.contains("Ready to accept connections"));
        assert!(ready, "redis-server on port {port} exited before it was ready");
        // Keep reading its output so a full pipe never blocks it.
        std::thread::spawn(move || lines.for_each(drop));
        Some(Self { child, port })
    }

    /// A loopback port free now.
    pub fn free_port() -> u16 {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).map_or(0, |a| a.port())
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id, for tests that stop it (`kill -STOP`) and let it go on (`kill -CONT`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL) and waits for it to exit.
    pub fn kill(self) {
        drop(self);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
