//! The `Host` check that keeps a browser page on another site from reading the API through
//! DNS rebinding: a server bound to loopback answers only requests addressed to a loopback
//! name (or to a host listed in `[server] allowed_hosts`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Which `Host` headers the server answers.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// `None`: any host (a server bound to a public address with no list).
    allowed: Option<Arc<[String]>>,
}

const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

impl HostPolicy {
    /// The policy for a server listening on `bound` with `allowed_hosts` from the config.
    ///
    /// Bound to loopback: loopback names and the listed hosts. Bound elsewhere: the listed
    /// hosts, the bound address and loopback names when a list is given, else any host.
    pub fn new(bound: SocketAddr, allowed_hosts: &[String]) -> Self {
        let loopback = bound.ip().is_loopback();
        if !loopback && allowed_hosts.is_empty() {
            return Self { allowed: None };
        }
        let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect();
        if !bound.ip().is_unspecified() {
            names.push(bound.ip().to_string());
        }
        names.extend(allowed_hosts.iter().map(|h| h.trim().to_ascii_lowercase()));
        Self { allowed: Some(names.into()) }
    }

    /// Whether a request with this `Host` header value (if any) is answered.
    pub fn admits(&self, host: Option<&str>) -> bool {
        let (Some(allowed), Some(host)) = (&self.allowed, host) else { return true };
        let name = host_name(host).to_ascii_lowercase();
        // A list always holds the loopback names, so any loopback address is answered too.
        name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) || allowed.contains(&name)
    }
}

/// `host` without its port: `[::1]:8686` → `::1`, `localhost:8686` → `localhost`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Middleware: 421 with a JSON error for a request addressed to a host the policy refuses.
pub async fn check(policy: HostPolicy, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    if policy.admits(host) {
        return next.run(request).await;
    }
    tracing::warn!(host = host.unwrap_or_default(), "request for another host refused");
    let error =
        json!({ "error": "this server does not answer for that host; add it to [server] allowed_hosts" });
    (StatusCode::MISDIRECTED_REQUEST, axum::Json(error)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(addr: &str, allowed: &[&str]) -> HostPolicy {
        let allowed: Vec<String> = allowed.iter().map(|s| (*s).to_owned()).collect();
        HostPolicy::new(addr.parse().unwrap(), &allowed)
    }

    #[test]
    fn loopback_servers_answer_loopback_names_only() {
        let p = at("127.0.0.1:8686", &[]);
        for ok in ["127.0.0.1:8686", "localhost:8686", "LOCALHOST", "[::1]:8686", "127.0.0.2:1"] {
            assert!(p.admits(Some(ok)), "{ok}");
        }
        for refused in ["evil.example", "evil.example:8686", "localhost.evil.example", "10.0.0.5:8686"] {
            assert!(!p.admits(Some(refused)), "{refused}");
        }
        assert!(p.admits(None), "no Host header: not a browser");
    }

    #[test]
    fn listed_hosts_are_answered_and_a_public_bind_without_a_list_answers_any() {
        let listed = at("127.0.0.1:8686", &["elf.internal"]);
        assert!(listed.admits(Some("elf.internal:8686")) && !listed.admits(Some("evil.example")));
        assert!(at("0.0.0.0:8686", &[]).admits(Some("pod-10-0-0-5.any")));
        let public = at("0.0.0.0:8686", &["elf.example.com"]);
        assert!(public.admits(Some("elf.example.com")) && public.admits(Some("localhost:8686")));
        assert!(!public.admits(Some("evil.example")));
        assert!(at("10.0.0.5:8686", &["x"]).admits(Some("10.0.0.5:8686")));
    }
}
