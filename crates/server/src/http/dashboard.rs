//! The dashboard: one self-contained page (inline CSS and JS, no external assets) that polls
//! the JSON API and draws the charts itself, and its icon.

use axum::http::header;
use axum::response::{Html, IntoResponse};

const PAGE: &str = include_str!("dashboard.html");

/// A small SVG icon: a green shield.
const ICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">\
<path d=\"M8 1 2 3v5c0 3.5 2.6 6.2 6 7 3.4-.8 6-3.5 6-7V3z\" fill=\"#2e9d5b\"/>\
<path d=\"m5 8 2 2 4-4\" stroke=\"#fff\" stroke-width=\"1.6\" fill=\"none\"/></svg>";

/// `/`: the dashboard.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// `/favicon.svg` and `/favicon.ico`: the icon, so browsers asking for one get it.
pub async fn icon() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "max-age=86400")], ICON)
}
