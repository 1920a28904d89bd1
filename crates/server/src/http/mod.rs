//! The HTTP server: dashboard, JSON API, health and metrics endpoints.

mod api;
mod auth;
mod body;
mod conn;
mod dashboard;
mod error;
mod host;
mod listen;
mod queue_api;
mod queue_edit;
mod storage;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;

pub use body::Limits;
pub use conn::Edges;
pub use error::AppError;
pub use host::HostPolicy;
pub use storage::StorageError;

use crate::config::Config;
use crate::redact::Redactor;
use crate::state::AppState;
use crate::stores::Stores;

/// What the handlers get: the shared state, the secret scrubber, the limits, and the stores the
/// queue edits use.
#[derive(Debug, Clone)]
pub struct HttpState {
    app: AppState,
    redactor: Redactor,
    limits: Limits,
    stores: Option<Arc<Stores>>,
}

/// How the HTTP surface is set up beyond its state.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Body and storage limits.
    pub limits: Limits,
    /// Origins answered with CORS headers; none by default.
    pub cors_origins: Vec<String>,
    /// The stores `requeue` and `DELETE` work on; without them those answer 404.
    pub stores: Option<Arc<Stores>>,
}

impl Settings {
    /// The settings of `[server]` and `[storage]`, over `stores`.
    pub fn from_config(config: &Config, stores: &Stores) -> Self {
        let limits = Limits {
            max_body_bytes: config.server.max_body_bytes(),
            body_timeout: config.server.body_timeout(),
            storage_timeout: config.storage.timeout(),
        };
        Self {
            limits,
            cors_origins: config.server.cors_origins.clone(),
            stores: Some(Arc::new(stores.clone())),
        }
    }
}

/// The whole HTTP surface with the default limits and no queue edits by ticket.
pub fn app(state: AppState, redactor: Redactor) -> Router {
    app_with(state, redactor, Settings::default())
}

/// The whole HTTP surface.
pub fn app_with(state: AppState, redactor: Redactor, settings: Settings) -> Router {
    let limit = settings.limits.max_body_bytes;
    let router = Router::new()
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
        .route("/api/queue", get(api::queue).post(queue_edit::enqueue))
        .route("/api/queue/{ticket}", axum::routing::delete(queue_edit::remove))
        .route("/api/queue/{ticket}/requeue", post(queue_edit::requeue))
        .route("/api/breakers/{name}/{action}", post(api::breaker_action))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn(error::json_rejections))
        .layer(axum::middleware::from_fn(move |request, next| body::refuse_large(limit, request, next)));
    let state = HttpState { app: state, redactor, limits: settings.limits, stores: settings.stores };
    let router = router.with_state(state);
    match cors(&settings.cors_origins) {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

/// CORS for the listed origins only; `None` (no CORS headers at all) when none are listed.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
    )
}

/// `app` behind the `Host` check of `policy`.
pub fn guarded(state: AppState, redactor: Redactor, policy: HostPolicy) -> Router {
    behind_host_check(app(state, redactor), policy)
}

fn behind_host_check(router: Router, policy: HostPolicy) -> Router {
    router.layer(axum::middleware::from_fn(move |request, next| host::check(policy.clone(), request, next)))
}

/// Serves the surface `config` describes on `listener` until `shutdown` resolves: each
/// connection has `[server] header_timeout` to send its headers, requests in flight at
/// shutdown get `[server] body_timeout` to finish, and connections still sending headers
/// are closed at once.
pub fn serve(
    config: &Config,
    listener: TcpListener,
    state: AppState,
    redactor: Redactor,
    stores: &Stores,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
    let policy = listener.local_addr().map(|addr| HostPolicy::new(addr, &config.server.allowed_hosts));
    let settings = Settings::from_config(config, stores);
    let router = app_with(state, redactor, settings);
    let edges = Edges { header_timeout: config.server.header_timeout(), grace: config.server.body_timeout() };
    async move { listen::run(listener, behind_host_check(router, policy?), edges, shutdown).await }
}
