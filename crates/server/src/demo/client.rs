//! The demo's LLM client: one HTTP call, its failure classified, usage and rate-limit headers
//! fed to the quota tracker.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use elf_resilience::{QuotaTracker, RateLimitSnapshot, Usage};
use serde::Deserialize;

use super::provider::ChatRequest;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// 429: wait for the reset.
    RateLimited,
    /// 529 or 503: try another provider.
    Overloaded(u16),
    /// 400 context_length_exceeded: degrade.
    ContextTooLong,
    /// Anything else.
    Other(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RateLimited => f.write_str("429 rate limited"),
            Self::Overloaded(code) => write!(f, "{code} overloaded"),
            Self::ContextTooLong => f.write_str("400 context too long"),
            Self::Other(why) => f.write_str(why),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Reply {
    text: String,
    usage: ReplyUsage,
}

#[derive(Debug, Deserialize)]
struct ReplyUsage {
    total_tokens: u64,
}

/// Calls the provider.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    url: String,
    quota: Arc<QuotaTracker>,
}

impl LlmClient {
    /// A client for the chat endpoint at `url`.
    pub fn new(url: String, quota: Arc<QuotaTracker>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap_or_default();
        Self { http, url, quota }
    }

    /// One completion for `team`.
    pub async fn complete(&self, team: &str, req: ChatRequest) -> Result<String, CallError> {
        let sent = self.http.post(&self.url).json(&req).send().await;
        let resp = sent.map_err(|e| {
            CallError::Other(if e.is_timeout() { "timed out".into() } else { "connection failed".into() })
        })?;
        let status = resp.status().as_u16();
        let snapshot = RateLimitSnapshot::from_header_map(resp.headers(), SystemTime::now());
        self.quota.observe_headers(&req.model, snapshot);
        match status {
            200 => {
                let reply: Reply =
                    resp.json().await.map_err(|e| CallError::Other(format!("bad reply: {e}")))?;
                let _ = self.quota.record(team, &req.model, Usage::new(reply.usage.total_tokens, 1));
                Ok(reply.text)
            }
            429 => Err(CallError::RateLimited),
            529 | 503 => Err(CallError::Overloaded(status)),
            400 => Err(CallError::ContextTooLong),
            other => Err(CallError::Other(format!("HTTP {other}"))),
        }
    }
}
