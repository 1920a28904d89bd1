//! "Configure Appropriate Timeouts": a generous timeout for a critical API, a quick one for
//! an optional feature. The API is a local HTTP server that answers in 1.5 s (well inside
//! 30 s); the optional feature hangs and is cut at its 5 s timeout.
//!
//! ```text
//! cargo run -p elf-resilience --example health_timeouts
//! ```

use std::time::Duration;

use elf_resilience::{HealthCheck, HealthMonitor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A slow local API: answers `200 OK` after 1.5 s.
async fn start_api() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                tokio::time::sleep(Duration::from_millis(1500)).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Ok(addr)
}

/// GET / and pass on a 2xx status line.
async fn check_api(addr: String) -> std::io::Result<bool> {
    let mut stream = TcpStream::connect(&addr).await?;
    stream
        .write_all(format!("GET / HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes())
        .await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    Ok(reply.starts_with("HTTP/1.1 2"))
}

/// An optional feature whose backend never answers.
async fn check_feature() -> bool {
    std::future::pending().await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = start_api().await?;
    let monitor = HealthMonitor::new(|r| async move { println!("ALERT: {}", r.summary()) });

    monitor.register_check(
        HealthCheck::builder("critical_api", move || check_api(addr.clone()))
            .timeout(Duration::from_secs(30)) // generous timeout for critical services
            .interval(Duration::from_secs(300)) // every 5 minutes
            .critical(true)
            .build()?,
    )?;
    monitor.register_check(
        HealthCheck::builder("optional_feature", check_feature)
            .timeout(Duration::from_secs(5)) // quick timeout for optional features
            .interval(Duration::from_secs(3600)) // hourly
            .failure_threshold(1)
            .build()?,
    )?;

    let (api, feature) =
        tokio::join!(monitor.run_check_now("critical_api"), monitor.run_check_now("optional_feature"));
    for r in [api?, feature?] {
        println!("{:16} {:9} in {:>6.2?}: {}", r.name, r.status, r.duration, r.message);
    }
    println!("overall: {} (the optional feature only degrades it)", monitor.get_health_status(None));
    monitor.alerts_idle().await;
    Ok(())
}
