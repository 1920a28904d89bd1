//! Integration pattern 1: an LLM call with full resilience against a flaky local "LLM" server.
//!
//! The server on 127.0.0.1 answers `gpt-4` with 429 (Retry-After and rate-limit headers) and
//! `claude` with a 529, then a slow reply, then 200. The call goes through a circuit breaker,
//! retry, fallback (switch provider) and a per-call timeout.
//!
//! Run with `cargo run -p elf-resilience --example integration_llm`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use elf_resilience::{
    CircuitBreaker, Context, FallbackProtocol, FallbackStrategy, FixedDelay, Pipeline, ResourceType,
    StaticGate,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Writes one raw HTTP response for `model`, misbehaving as described above.
async fn respond(mut socket: TcpStream, claude_calls: Arc<AtomicU32>) -> std::io::Result<()> {
    let mut buf = [0u8; 1024];
    let n = socket.read(&mut buf).await?;
    let request = String::from_utf8_lossy(&buf[..n]);
    let model = request.split_whitespace().nth(1).unwrap_or("/").trim_start_matches("/v1/").to_owned();
    let reply = if model == "gpt-4" {
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 20\r\nx-ratelimit-remaining-requests: 0\r\nx-ratelimit-reset-requests: 20s\r\ncontent-length: 0\r\n\r\n".to_owned()
    } else {
        match claude_calls.fetch_add(1, Ordering::SeqCst) {
            0 => "HTTP/1.1 529 Overloaded\r\ncontent-length: 0\r\n\r\n".to_owned(),
            1 => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate".to_owned()
            }
            _ => format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\nhello from {model}", 11 + model.len()),
        }
    };
    socket.write_all(reply.as_bytes()).await
}

async fn serve(listener: TcpListener) {
    let claude_calls = Arc::new(AtomicU32::new(0));
    while let Ok((socket, _)) = listener.accept().await {
        tokio::spawn(respond(socket, claude_calls.clone()));
    }
}

/// A minimal HTTP client: the status line's code and the body, or an error naming the status.
async fn invoke(addr: std::net::SocketAddr, model: &str, prompt: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let req = format!(
        "POST /v1/{model} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n\r\n{prompt}",
        prompt.len()
    );
    stream.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await.map_err(|e| e.to_string())?;
    let status = text.split_whitespace().nth(1).unwrap_or("000");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if status == "200" {
        return Ok(body.to_owned());
    }
    let retry_after = head.lines().find_map(|l| l.strip_prefix("retry-after: ")).unwrap_or("-");
    Err(format!("{model}: HTTP {status} (retry-after {retry_after})"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(listener));

    let protocol = FallbackProtocol::builder()
        .gate(Arc::new(StaticGate::new()))
        .providers(["gpt-4", "claude"])
        .on_event(|e| async move {
            if let Some(detail) = e.detail.filter(|_| e.stage == elf_resilience::FallbackStage::Exhausted) {
                println!("  fallback exhausted: {detail}");
            }
        })
        .build()?;
    let pipeline = Pipeline::builder()
        .circuit_breaker(CircuitBreaker::new("llm"))
        .retry(FixedDelay::new().with_max_retries(3).with_delay(Duration::from_millis(20)))
        .fallback_with(protocol, ResourceType::ApiQuota, [FallbackStrategy::SwitchProvider])
        .timeout(Duration::from_millis(200))
        .build();
    let ctx = Context::new().team("sales-team").model("gpt-4");
    let answer = pipeline
        .call(ctx, |a| async move {
            let model = a.model_or("gpt-4").to_owned();
            let result = invoke(addr, &model, "Summarize Q3").await;
            println!("  attempt {} via {model}: {result:?}", a.number);
            result
        })
        .await?;
    println!("answer: {answer}");
    Ok(())
}
