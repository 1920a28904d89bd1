//! Changes to the queue over HTTP, bearer token required: `POST /api/queue` queues a request,
//! `POST /api/queue/{ticket}/requeue` and `DELETE /api/queue/{ticket}` do what `queue requeue`
//! and `queue drop` do, through the same [`Stores`](crate::stores::Stores) operations.

use std::time::SystemTime;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use elf_resilience::{EnqueueRequest, Ticket};
use serde::Deserialize;
use serde_json::{Value, json};

use super::HttpState;
use super::body::{Authorized, JsonBody};
use super::error::AppError;
use super::storage::{QUEUE, blocking};
use crate::stores::Stores;

/// The body of `POST /api/queue`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    handler: String,
    payload: Value,
    max_attempts: Option<u32>,
}

/// `POST /api/queue`: 201 with the new request's `ticket`; 400 for a handler `[[queue.handlers]]`
/// does not name.
pub async fn enqueue(
    State(s): State<HttpState>,
    _: Authorized,
    JsonBody(new): JsonBody<NewRequest>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    check_handler(&s, &new.handler)?;
    let mut request = EnqueueRequest::new(new.handler, new.payload);
    if let Some(n) = new.max_attempts {
        if n == 0 {
            return Err(AppError::BadRequest("max_attempts: expected at least 1".into()));
        }
        request = request.max_attempts(n);
    }
    let queue = s.app.queue.clone();
    let ticket = blocking(QUEUE, s.limits.storage_timeout, move || queue.enqueue(request, SystemTime::now()))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tracing::info!(%ticket, "request queued over HTTP");
    Ok((StatusCode::CREATED, Json(json!({ "ticket": ticket }))))
}

fn check_handler(s: &HttpState, handler: &str) -> Result<(), AppError> {
    let names: Vec<&str> =
        s.app.replay().map(|r| r.handlers.iter().map(|h| h.name.as_str()).collect()).unwrap_or_default();
    if names.contains(&handler) {
        return Ok(());
    }
    let known = if names.is_empty() {
        "none are configured".to_owned()
    } else {
        format!("configured: {}", names.join(", "))
    };
    Err(AppError::BadRequest(format!("unknown handler `{handler}` ([[queue.handlers]] {known})")))
}

/// `POST /api/queue/{ticket}/requeue`: pending again with fresh attempts, ready now.
pub async fn requeue(
    State(s): State<HttpState>,
    _: Authorized,
    Path(ticket): Path<String>,
) -> Result<Json<Value>, AppError> {
    let found = edit(&s, ticket.clone(), |stores, t| stores.requeue(t, SystemTime::now())).await?;
    tracing::info!(%ticket, "request requeued over HTTP");
    Ok(Json(json!({ "ticket": found, "status": "pending" })))
}

/// `DELETE /api/queue/{ticket}`: the request is gone.
pub async fn remove(
    State(s): State<HttpState>,
    _: Authorized,
    Path(ticket): Path<String>,
) -> Result<Json<Value>, AppError> {
    let found = edit(&s, ticket.clone(), Stores::remove).await?;
    tracing::info!(%ticket, "request dropped over HTTP");
    Ok(Json(json!({ "ticket": found, "dropped": true })))
}

/// Runs one ticket operation off the async workers; 404 when the ticket is not there.
async fn edit<F, E>(s: &HttpState, ticket: String, op: F) -> Result<Ticket, AppError>
where
    F: FnOnce(&Stores, &Ticket) -> Result<bool, E> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let stores = s.stores.clone().ok_or_else(|| AppError::NotFound("queue edits on this server".into()))?;
    let ticket = Ticket(ticket);
    let t = ticket.clone();
    let found = blocking(QUEUE, s.limits.storage_timeout, move || op(&stores, &t))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if found { Ok(ticket) } else { Err(AppError::NotFound(format!("request with ticket {ticket}"))) }
}
