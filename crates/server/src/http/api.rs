//! The JSON API and the probe endpoints.

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use elf_resilience::{BreakerCommand, HEALTH_JSON_CONTENT_TYPE, ResourceType, TicketStatus, health_json};
use serde_json::{Value, json};

use super::HttpState;
use super::auth::require_token;
use super::error::AppError;
use super::queue_api;
use super::storage::{QUEUE, blocking};
use crate::gauges;
use crate::shared::local_listing;

/// How the shared breaker store is named in a 503.
const BREAKER_STORE: &str = "the shared breaker store";

/// `/livez`: the process answers.
pub async fn livez() -> &'static str {
    "ok"
}

/// `/readyz`: 200 once started, 503 before and while shutting down.
pub async fn readyz(State(s): State<HttpState>) -> (StatusCode, &'static str) {
    if s.app.is_ready() { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "not ready") }
}

/// `/health`: `application/health+json`, 503 when unhealthy.
pub async fn health(State(s): State<HttpState>) -> Response {
    let (code, body) = health_json(&s.app.health.get_health_report());
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = s.redactor.json(&body).to_string();
    (status, [(header::CONTENT_TYPE, HEALTH_JSON_CONTENT_TYPE)], body).into_response()
}

/// `/metrics`: Prometheus text, with the breakers of other processes from the shared store.
pub async fn metrics(State(s): State<HttpState>) -> Result<Response, AppError> {
    let handle = s.app.metrics.as_ref().ok_or_else(|| AppError::NotFound("metrics recorder".into()))?;
    let app = s.app.clone();
    // The queue gauges read the queue: a stalled one leaves them at their last values.
    if let Err(e) = blocking(QUEUE, s.limits.storage_timeout, move || gauges::update(&app)).await {
        tracing::warn!(error = %e, "/metrics with the gauges of the last scrape");
    }
    let mut text = handle.render();
    if let Some(shared) = s.app.shared_breakers().cloned() {
        let now = SystemTime::now();
        // A store that fails or stalls costs only the other processes' gauges, never the scrape.
        let answered = blocking(BREAKER_STORE, s.limits.storage_timeout, move || shared.remote(now)).await;
        match answered.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
            Ok(remote) => text = gauges::with_remote_breakers(&text, &remote, now),
            Err(e) => tracing::warn!(error = %e, "/metrics without other processes' breakers"),
        }
    }
    let body = s.redactor.scrub(&gauges::with_help(&text));
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}

/// `/api/resources`: the report over the last hour and the usage history per type.
pub async fn resources(State(s): State<HttpState>) -> Json<Value> {
    let report = s.app.resources.get_resource_report(1);
    let history: BTreeMap<&str, _> =
        ResourceType::ALL.iter().map(|&t| (t.as_str(), s.app.history_of(t))).collect();
    let thresholds: BTreeMap<&str, _> = ResourceType::ALL
        .iter()
        .map(|&t| {
            let th = s.app.resources.thresholds().get(t);
            (t.as_str(), json!({ "warning": th.warning, "critical": th.critical }))
        })
        .collect();
    Json(s.redactor.json(&json!({ "report": report, "history": history, "thresholds": thresholds })))
}

/// `/api/health`: the health report with each check's history.
pub async fn health_report(State(s): State<HttpState>) -> Json<Value> {
    Json(s.redactor.json(&s.app.health.get_health_report()))
}

/// `/api/breakers`: every breaker's stats, this process's first, then other processes' from
/// the shared store; each with `owner`, `local`, `age` (seconds) and `stale`.
pub async fn breakers(State(s): State<HttpState>) -> Result<Json<Value>, AppError> {
    let local = s.app.breakers.stats();
    let listing = match s.app.shared_breakers().cloned() {
        Some(shared) => blocking(BREAKER_STORE, s.limits.storage_timeout, move || {
            shared.listing(&local, SystemTime::now())
        })
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))?,
        None => local_listing(&local),
    };
    Ok(Json(s.redactor.json(&listing)))
}

/// `/api/queue?status=&limit=&after=`: one page of requests (oldest first; default 100, at
/// most 1000), `next` (the cursor of the following page, or null), the counts per status, and
/// the replay worker: its configured and in-process handlers and the totals of every worker in
/// this process. Payloads, contexts and results only with the bearer token.
pub async fn queue(
    State(s): State<HttpState>,
    headers: HeaderMap,
    query: Result<Query<queue_api::RawPageQuery>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let query = queue_api::PageQuery::parse(query)?;
    let reveal = queue_api::may_reveal(&headers, &s.app.token)?;
    let (status, limit) = (query.status.map(TicketStatus::as_str), query.limit);
    let page = queue_api::read(s.app.queue.clone(), query, s.limits.storage_timeout).await?;
    let worker = s
        .app
        .replay()
        .map(|r| json!({ "handlers": r.handlers, "in_process": r.in_process(), "totals": r.totals() }));
    let body = json!({
        "counts": page.counts,
        "items": queue_api::items_json(&page.items, reveal),
        "next": page.next,
        "status": status,
        "limit": limit,
        "revealed": reveal,
        "worker": worker,
    });
    Ok(Json(s.redactor.json(&body)))
}

/// Which process a breaker command is for: `?owner=ID` (default: every process that has it).
#[derive(Debug, serde::Deserialize)]
pub struct Target {
    owner: Option<String>,
}

/// `POST /api/breakers/{name}/{action}` with action `trip` or `reset`; bearer token required.
/// A local breaker changes at once (200 with its stats); another process's gets a command it
/// applies on its next tick (202 with `sent_to`).
pub async fn breaker_action(
    State(s): State<HttpState>,
    headers: HeaderMap,
    Path((name, action)): Path<(String, String)>,
    Query(target): Query<Target>,
) -> Result<Response, AppError> {
    require_token(&headers, &s.app.token)?;
    let command = BreakerCommand::parse(&action)
        .ok_or_else(|| AppError::BadRequest(format!("unknown action `{action}`: expected trip or reset")))?;
    let local = s.app.breakers.get(&name).filter(|_| target.owner.is_none());
    if let Some(breaker) = local {
        match command {
            BreakerCommand::Trip => breaker.trip(),
            BreakerCommand::Reset => breaker.reset(),
        }
        tracing::info!(breaker = %name, %action, "breaker changed by operator");
        return Ok(Json(s.redactor.json(&breaker.stats())).into_response());
    }
    let shared =
        s.app.shared_breakers().cloned().ok_or_else(|| AppError::NotFound(format!("breaker `{name}`")))?;
    let (to, owner) = (name.clone(), target.owner.clone());
    let sent = blocking(BREAKER_STORE, s.limits.storage_timeout, move || {
        shared.send(&to, owner.as_deref(), command, SystemTime::now())
    })
    .await?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    if sent.is_empty() {
        return Err(AppError::NotFound(format!("breaker `{name}`")));
    }
    tracing::info!(breaker = %name, %action, owners = ?sent, "breaker command sent to its owners");
    let body = json!({ "name": name, "command": command, "sent_to": sent, "state": "pending" });
    Ok((StatusCode::ACCEPTED, Json(s.redactor.json(&body))).into_response())
}
