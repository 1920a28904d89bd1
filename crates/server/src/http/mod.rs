//! The HTTP server: dashboard, JSON API, health and metrics endpoints.

mod api;
mod auth;
mod dashboard;
mod error;
mod host;
mod queue_api;

use axum::Router;
use axum::routing::{get, post};

pub use error::AppError;
pub use host::HostPolicy;

use crate::redact::Redactor;
use crate::state::AppState;

/// What the handlers get: the shared state and the secret scrubber.
#[derive(Debug, Clone)]
pub struct HttpState {
    app: AppState,
    redactor: Redactor,
}

/// The whole HTTP surface.
pub fn app(state: AppState, redactor: Redactor) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/favicon.svg", get(dashboard::icon))
        .route("/favicon.ico", get(dashboard::icon))
        .route("/health", get(api::health))
        .route("/livez", get(api::livez))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/api/resources", get(api::resources))
        .route("/api/health", get(api::health_report))
        .route("/api/breakers", get(api::breakers))
        .route("/api/queue", get(api::queue))
        .route("/api/breakers/{name}/{action}", post(api::breaker_action))
        .with_state(HttpState { app: state, redactor })
}

/// `app` behind the `Host` check of `policy`.
pub fn guarded(state: AppState, redactor: Redactor, policy: HostPolicy) -> Router {
    app(state, redactor)
        .layer(axum::middleware::from_fn(move |request, next| host::check(policy.clone(), request, next)))
}
