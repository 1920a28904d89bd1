//! The one error type of the HTTP API: clear for the client, silent about internals.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed request.
#[derive(Debug)]
pub enum AppError {
    /// No or wrong bearer token.
    Unauthorized,
    /// The named thing does not exist.
    NotFound(String),
    /// The request itself is wrong.
    BadRequest(String),
    /// Something failed inside; the detail is logged, never sent.
    Internal(String),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "missing or invalid bearer token".to_owned()),
            Self::NotFound(what) => (StatusCode::NOT_FOUND, format!("not found: {what}")),
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, why),
            Self::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_owned())
            }
        };
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
