//! The dashboard: one self-contained page (inline CSS and JS, no external assets) that polls
//! the JSON API and draws the charts itself.

use axum::response::Html;

const PAGE: &str = include_str!("dashboard.html");

/// `/`: the dashboard.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}
