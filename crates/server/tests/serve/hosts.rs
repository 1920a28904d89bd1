//! The `Host` check against a real `serve` on loopback: a request addressed to another host
//! (DNS rebinding from a browser page) is refused; loopback names and listed hosts are answered.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

use elf_resilience_server::config::Config;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::serve;

/// The status line's code for `GET path` sent with `Host: host` over a plain socket.
fn status_for(addr: SocketAddr, path: &str, host: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("{answer}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_on_loopback_answers_only_loopback_and_listed_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[storage]\ndata_dir = {:?}\n[server]\nbind = \"127.0.0.1:0\"\ntoken = \"tok-hosts-0123456789\"\n\
         allowed_hosts = [\"elf.internal\"]\n[health]\ndefault_checks = false\n",
        dir.path().join("data")
    );
    let config = Config::parse(&text, Path::new("hosts.toml")).unwrap();
    let running =
        serve::start(&config, config.server.bind(), Redactor::from_config(&config, &[])).await.unwrap();
    let addr = running.addr;
    let statuses = tokio::task::spawn_blocking(move || {
        let port = addr.port();
        let hosts = [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("elf.internal:{port}"),
            format!("evil.example:{port}"),
            "attacker.example".to_owned(),
        ];
        ["/api/queue", "/livez"]
            .into_iter()
            .flat_map(|path| hosts.clone().map(|host| (path, host)))
            .map(|(path, host)| (format!("{path} {host}"), status_for(addr, path, &host)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (request, status) in statuses {
        let refused = request.contains("example");
        assert_eq!(status == 421, refused, "{request}: {status}");
        if !refused {
            assert_eq!(status, 200, "{request}");
        }
    }
    running.shutdown().await.unwrap();
}
