//! Request bodies: JSON only, at most `[server] max_body_bytes`, within `[server]
//! body_timeout`; a larger body gets 413 before it is read (by its `Content-Length`) or as soon
//! as the limit is crossed (chunked).

use std::time::Duration;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use super::HttpState;
use super::auth::require_token;
use super::error::AppError;
use crate::config::{BODY_TIMEOUT, MAX_BODY_BYTES, STORAGE_TIMEOUT};

/// The limits a request works under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest body accepted.
    pub max_body_bytes: usize,
    /// How long reading a body may take.
    pub body_timeout: Duration,
    /// How long one storage call may take.
    pub storage_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_body_bytes: MAX_BODY_BYTES, body_timeout: BODY_TIMEOUT, storage_timeout: STORAGE_TIMEOUT }
    }
}

/// Middleware: 413 for a request whose `Content-Length` is over `limit`, before its body is read.
pub async fn refuse_large(limit: usize, request: Request, next: Next) -> Response {
    if declared_length(request.headers()).is_some_and(|n| n > limit) {
        return AppError::PayloadTooLarge(limit).into_response();
    }
    next.run(request).await
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    let value = headers.get(header::CONTENT_LENGTH)?.to_str().ok()?;
    // A length too large for usize is over any limit.
    Some(value.trim().parse::<u64>().ok()?.try_into().unwrap_or(usize::MAX))
}

/// The request carries the bearer token; as an extractor placed before the body, a request
/// without it gets 401 whatever its body.
#[derive(Debug, Clone, Copy)]
pub struct Authorized;

impl FromRequestParts<HttpState> for Authorized {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, s: &HttpState) -> Result<Self, AppError> {
        require_token(&parts.headers, &s.app.token).map(|()| Self)
    }
}

/// A JSON body: 415 unless `Content-Type: application/json`, 413 over the limit, 408 when it
/// does not arrive in time, 400 when it does not parse into `T` (the parser's message says
/// where).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<HttpState> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, s: &HttpState) -> Result<Self, AppError> {
        if !is_json(request.headers()) {
            return Err(AppError::UnsupportedMediaType);
        }
        let limits = s.limits;
        if declared_length(request.headers()).is_some_and(|n| n > limits.max_body_bytes) {
            return Err(AppError::PayloadTooLarge(limits.max_body_bytes));
        }
        let body = Limited::new(request.into_body(), limits.max_body_bytes);
        let collected = tokio::time::timeout(limits.body_timeout, body.collect())
            .await
            .map_err(|_| AppError::BodyTimeout)?
            .map_err(|e| read_error(&*e, limits.max_body_bytes))?;
        let bytes = collected.to_bytes();
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

fn read_error(e: &(dyn std::error::Error + Send + Sync + 'static), limit: usize) -> AppError {
    if e.downcast_ref::<LengthLimitError>().is_some() {
        AppError::PayloadTooLarge(limit)
    } else {
        AppError::BadRequest(format!("the request body could not be read: {e}"))
    }
}

/// `application/json`, `application/json; charset=utf-8`, or a `+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn json_content_types() {
        for ok in ["application/json", "Application/JSON; charset=utf-8", "application/problem+json"] {
            assert!(is_json(&with(header::CONTENT_TYPE, ok)), "{ok}");
        }
        for refused in ["text/plain", "application/jsonx", "multipart/form-data"] {
            assert!(!is_json(&with(header::CONTENT_TYPE, refused)), "{refused}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn declared_lengths() {
        assert_eq!(declared_length(&with(header::CONTENT_LENGTH, "42")), Some(42));
        assert_eq!(declared_length(&with(header::CONTENT_LENGTH, "99999999999999999999")), None);
        assert_eq!(declared_length(&HeaderMap::new()), None);
    }
}
