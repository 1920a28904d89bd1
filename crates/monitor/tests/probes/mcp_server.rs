//! The MCP server the probe's tests talk to, written with rmcp: over streamable HTTP in
//! `tests/probes/mcp_http.rs`, over stdio as the `elf-mcp-test-server` binary.
//!
//! With `modern` it speaks only protocol 2026-07-28 (`server/discover`); without, only
//! 2025-11-25, answering `server/discover` with "method not found" as older servers do.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rmcp::ServerHandler;
use rmcp::model::{DiscoverResult, ErrorCode, ErrorData, ProtocolVersion, ServerCapabilities, ServerConfig};
use rmcp::service::{MaybeSendFuture, RequestContext, RoleServer};

/// Counts the `server/discover` and `ping` requests it answers.
#[derive(Debug, Clone, Default)]
pub struct Counting {
    pub modern: bool,
    pub discovers: Arc<AtomicUsize>,
    pub pings: Arc<AtomicUsize>,
}

impl ServerHandler for Counting {
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
            self.discovers.fetch_add(1, Ordering::SeqCst);
            Ok(DiscoverResult::from_server_info(
                self.supported_protocol_versions().into_owned(),
                self.get_info(),
            ))
        } else {
            Err(ErrorData::new(ErrorCode::METHOD_NOT_FOUND, "Method not found", None))
        })
    }

    fn ping(
        &self,
        _context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), ErrorData>> + MaybeSendFuture + '_ {
        self.pings.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(()))
    }
}
