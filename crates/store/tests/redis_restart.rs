//! A private `redis-server` that this test starts on its own loopback port, kills and starts
//! again (its data gone): the stores fail with Redis's error while it is down, never panic,
//! and work again once it is back, without being opened again.
#![cfg(feature = "redis")]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use elf_resilience_core::{EnqueueRequest, RequestQueue, ResponseCache};
use elf_resilience_store::{RedisCache, RedisQueue};
use serde_json::json;

const HOUR: Duration = Duration::from_secs(3600);

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `redis-server` on `port`, without persistence, and waits until it accepts.
    fn start(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Self { child, port };
        for _ in 0..500 {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(10)); // a readiness poll, not a timing
        }
        panic!("redis-server on port {port} did not start");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

#[test]
fn the_stores_reconnect_after_redis_restarts() {
    let port = free_port();
    let Some(server) = Server::start(port) else {
        println!("skipping: redis-server is not installed");
        return;
    };
    let url = server.url();
    let queue = RedisQueue::open(&url, "elf-restart:queue").unwrap();
    let cache = RedisCache::open(&url, "elf-restart:cache", Duration::from_secs(60)).unwrap();
    let now = SystemTime::now();
    queue.enqueue(EnqueueRequest::new("h", json!(1)), now).unwrap();
    cache.put("k", json!("v"), now, HOUR).unwrap();

    server.kill();
    let down = queue.enqueue(EnqueueRequest::new("h", json!(2)), now).unwrap_err();
    assert!(!down.to_string().is_empty());
    assert!(cache.get("k", now, HOUR).is_err(), "a cache read while Redis is down is an error, not a panic");

    let _back = Server::start(port).unwrap();
    let ticket = queue.enqueue(EnqueueRequest::new("h", json!(3)), now).expect("reconnected");
    let listed = queue.list(None, 10).unwrap();
    assert_eq!(
        listed.iter().map(|r| &r.ticket).collect::<Vec<_>>(),
        [&ticket],
        "the restarted Redis lost the rest"
    );
    cache.put("k", json!("again"), now, HOUR).expect("reconnected");
    assert_eq!(cache.get("k", now, HOUR).unwrap().map(|hit| hit.value), Some(json!("again")));
}
