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
