//! The one error type of the HTTP API: clear for the client, silent about internals.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::storage::StorageError;

/// A failed request.
#[derive(Debug)]
pub enum AppError {
    /// No or wrong bearer token.
    Unauthorized,
    /// The named thing does not exist.
    NotFound(String),
    /// The path exists, the method does not.
    MethodNotAllowed,
    /// The request itself is wrong.
    BadRequest(String),
    /// The body is larger than `[server] max_body_bytes` (the limit).
    PayloadTooLarge(usize),
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body did not arrive within `[server] body_timeout`.
    BodyTimeout,
    /// A store did not answer in time.
    Unavailable(StorageError),
    /// Something failed inside; the detail is logged, never sent.
    Internal(String),
}

impl AppError {
    fn status_and_message(self) -> (StatusCode, String) {
        match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "missing or invalid bearer token".to_owned()),
            Self::NotFound(what) => (StatusCode::NOT_FOUND, format!("not found: {what}")),
            Self::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this path".to_owned())
            }
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, why),
            Self::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body over {limit} bytes (`[server] max_body_bytes`)"),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a JSON body with `Content-Type: application/json`".to_owned(),
            ),
            Self::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time (`[server] body_timeout`)".to_owned(),
            ),
            Self::Unavailable(e) => {
                tracing::warn!(error = %e, "request answered 503");
                (StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            Self::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_owned())
            }
        }
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        Self::Unavailable(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = self.status_and_message();
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        let extra = match status {
            StatusCode::UNAUTHORIZED => Some((header::WWW_AUTHENTICATE, "Bearer")),
            StatusCode::SERVICE_UNAVAILABLE => Some((header::RETRY_AFTER, "1")),
            _ => None,
        };
        if let Some((name, value)) = extra {
            response.headers_mut().insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

/// The fallback for paths no route matches: 404 JSON, never a file.
pub async fn not_found() -> AppError {
    AppError::NotFound("no such path".into())
}

/// The fallback for a known path asked with a method it does not take.
pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

/// The most of a plain-text rejection's text carried into its JSON form.
const REJECTION_TEXT_LIMIT: usize = 4096;

/// Middleware: a 4xx answer in plain text (an axum extractor's rejection, such as a query
/// string that does not parse) becomes `{"error": "..."}` with the same status.
pub async fn json_rejections(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !response.status().is_client_error() || !plain {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, REJECTION_TEXT_LIMIT).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => parts.status.canonical_reason().unwrap_or("bad request").to_owned(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let json = Json(json!({ "error": text })).into_response();
    let (json_parts, json_body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, json_body)
}
