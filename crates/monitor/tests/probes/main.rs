//! Probes against real servers: PostgreSQL, SQLite and a pool (feature `postgres`), TCP and HTTP
//! (feature `http`), MCP over streamable HTTP (feature `mcp`) and over stdio (feature
//! `mcp-test-server`, which builds the server the stdio tests spawn).

#[cfg(feature = "postgres")]
mod database;
#[cfg(feature = "mcp")]
mod mcp_http;
#[cfg(feature = "mcp")]
mod mcp_server;
#[cfg(feature = "mcp-test-server")]
mod mcp_stdio;
#[cfg(feature = "http")]
mod network;

/// Accepts connections on loopback and never answers; its address.
#[cfg(any(feature = "postgres", feature = "mcp", feature = "http"))]
async fn silent_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}
