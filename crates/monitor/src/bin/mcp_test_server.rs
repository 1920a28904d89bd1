//! A small MCP server over stdio, written with rmcp, that the MCP probe's tests spawn.
//!
//! `elf-mcp-test-server modern` speaks only protocol 2026-07-28 (`server/discover`, no
//! `initialize`); `elf-mcp-test-server legacy` speaks only 2025-11-25 and answers
//! `server/discover` with "method not found", as servers that predate it do.

#[path = "../../tests/probes/mcp_server.rs"]
mod mcp_server;

use rmcp::ServiceExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let modern = std::env::args().nth(1).as_deref() != Some("legacy");
    let handler = mcp_server::Counting { modern, ..Default::default() };
    let running = handler.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
