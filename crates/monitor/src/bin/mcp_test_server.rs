//! A small MCP server over stdio, written with rmcp, that the MCP probe's tests spawn.
//!
//! `elf-mcp-test-server modern` speaks only protocol 2026-07-28 (`server/discover`, no
//! `initialize`); `elf-mcp-test-server legacy` speaks only 2025-11-25 and answers
//! `server/discover` with "method not found", as servers that predate it do.

use std::borrow::Cow;
use std::future::Future;

use rmcp::model::{DiscoverResult, ErrorCode, ErrorData, ProtocolVersion, ServerCapabilities, ServerConfig};
use rmcp::service::{MaybeSendFuture, RequestContext, RoleServer};
use rmcp::{ServerHandler, ServiceExt};

#[derive(Debug, Clone, Copy)]
struct TestServer {
    modern: bool,
}

impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().build())
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        if self.modern {
            Cow::Borrowed(&[ProtocolVersion::V_2026_07_28])
        } else {
            Cow::Borrowed(&[ProtocolVersion::V_2025_11_25])
        }
    }

    fn discover(
        &self,
        _context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<DiscoverResult, ErrorData>> + MaybeSendFuture + '_ {
        std::future::ready(if self.modern {
            Ok(DiscoverResult::from_server_info(
                self.supported_protocol_versions().into_owned(),
                self.get_info(),
            ))
        } else {
            Err(ErrorData::new(ErrorCode::METHOD_NOT_FOUND, "Method not found", None))
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let modern = std::env::args().nth(1).as_deref() != Some("legacy");
    let running = TestServer { modern }.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
