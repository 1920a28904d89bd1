//! What went wrong talking to an MCP server, in words: the SDK's errors name its transport
//! types (`Transport [WorkerTransport<...>] error`) and print the HTTP client's error without
//! its causes.

use std::error::Error;

use rmcp::service::{ClientInitializeError, ServiceError};
use rmcp::transport::streamable_http_client::StreamableHttpError;

use super::cause::chain;

/// What went wrong in a handshake.
pub(crate) fn init_cause(e: &ClientInitializeError) -> String {
    match e {
        ClientInitializeError::TransportError { error, context } => {
            format!("{context}: {}", transport_cause(&*error.error))
        }
        ClientInitializeError::LegacyFallbackFailed { discover, fallback } => {
            format!("server/discover: {}; initialize: {}", init_cause(discover), init_cause(fallback))
        }
        other => chain(other),
    }
}

/// What went wrong in a request.
pub(crate) fn request_cause(e: &ServiceError) -> String {
    match e {
        ServiceError::TransportSend(error) => transport_cause(&*error.error),
        other => chain(other),
    }
}

/// A transport's error with its causes, the HTTP client's followed down to what happened
/// ("Connection refused").
fn transport_cause(e: &(dyn Error + Send + Sync + 'static)) -> String {
    match e.downcast_ref::<StreamableHttpError<rmcp_reqwest::Error>>() {
        Some(StreamableHttpError::Client(client)) => chain(client),
        _ => chain(e),
    }
}
