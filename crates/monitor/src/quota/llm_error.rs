//! What an LLM provider's error response means for the caller: wait, stop, switch or degrade.

use std::time::Duration;

use serde::Serialize;

use super::headers::RateLimitSnapshot;

/// The kinds of LLM API failure, each with its own remedy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LlmErrorKind {
    /// Too many requests or tokens for now: wait for the reset, then retry.
    RateLimited {
        /// How long the provider asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The account's quota or credit is spent (billing): never retry; switch provider or stop.
    QuotaExhausted,
    /// The provider is overloaded (HTTP 529): switch provider rather than wait.
    Overloaded,
    /// The prompt does not fit the model's context: degrade (shorter prompt, bigger model).
    ContextTooLong,
    /// A passing failure (5xx, timeout): retry with backoff.
    Transient,
    /// The request itself is wrong (auth, bad request): retrying will not help.
    Fatal,
}

impl LlmErrorKind {
    /// Whether retrying the same provider later can succeed.
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient)
    }

    /// Whether the caller should move to another provider or model.
    pub const fn should_switch_provider(&self) -> bool {
        matches!(self, Self::Overloaded | Self::QuotaExhausted)
    }

    /// The wait the provider asked for.
    pub const fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Classifies an error response from its status, rate-limit headers and body (OpenAI and
    /// Anthropic error shapes; any other text is searched for the usual phrases).
    ///
    /// ```
    /// use elf_resilience_monitor::{LlmErrorKind, RateLimitSnapshot};
    ///
    /// let none = RateLimitSnapshot::default();
    /// let body = r#"{"error":{"type":"insufficient_quota","code":"insufficient_quota","message":"You exceeded your current quota"}}"#;
    /// assert_eq!(LlmErrorKind::classify(429, &none, body), LlmErrorKind::QuotaExhausted);
    /// let body = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    /// assert_eq!(LlmErrorKind::classify(529, &none, body), LlmErrorKind::Overloaded);
    /// ```
    pub fn classify(status: u16, headers: &RateLimitSnapshot, body: &str) -> Self {
        let text = ErrorText::read(body);
        let kind = if status == 402 || text.says_billing() {
            Self::QuotaExhausted
        } else if status == 529
            || text.has("overloaded")
            || (status == 503 && text.message.contains("overloaded"))
        {
            Self::Overloaded
        } else if status == 413 || text.says_context() {
            Self::ContextTooLong
        } else if status == 429 || text.has("rate_limit") {
            Self::RateLimited { retry_after: headers.retry_after.or_else(|| exhausted_reset(headers)) }
        } else if matches!(status, 408 | 409 | 425) || status >= 500 || text.says_transient() {
            Self::Transient
        } else {
            Self::Fatal
        };
        tracing::debug!(status, ?kind, "classified an LLM error");
        kind
    }
}

/// The reset of a limit that has nothing left.
fn exhausted_reset(headers: &RateLimitSnapshot) -> Option<Duration> {
    headers.limits.iter().filter(|(_, s)| s.remaining == Some(0)).filter_map(|(_, s)| s.reset_after).max()
}

/// The machine-readable codes and the message of an error body, lowercased.
struct ErrorText {
    codes: String,
    message: String,
}

const BODY_LIMIT: usize = 16 * 1024;

impl ErrorText {
    fn read(body: &str) -> Self {
        let body = truncate(body, BODY_LIMIT);
        let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
            return Self { codes: String::new(), message: body.to_lowercase() };
        };
        let error = json.get("error").unwrap_or(&json);
        let field =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_lowercase();
        let codes = [field(error, "type"), field(error, "code"), field(&json, "type")].join(" ");
        let message = match error {
            serde_json::Value::String(s) => s.to_lowercase(),
            _ => field(error, "message"),
        };
        Self { codes, message }
    }

    fn has(&self, code: &str) -> bool {
        self.codes.contains(code)
    }

    fn says_billing(&self) -> bool {
        ["insufficient_quota", "billing", "credit"].iter().any(|c| self.has(c))
            || ["exceeded your current quota", "credit balance is too low", "billing hard limit"]
                .iter()
                .any(|p| self.message.contains(p))
    }

    fn says_context(&self) -> bool {
        self.has("context_length_exceeded")
            || self.has("request_too_large")
            || ["prompt is too long", "maximum context length", "context window", "too many tokens"]
                .iter()
                .any(|p| self.message.contains(p))
    }

    fn says_transient(&self) -> bool {
        ["api_error", "server_error", "timeout", "service_unavailable"].iter().any(|c| self.has(c))
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::SystemTime;

    fn none() -> RateLimitSnapshot {
        RateLimitSnapshot::default()
    }

    #[test]
    fn openai_errors() {
        let ctx = r#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        assert_eq!(LlmErrorKind::classify(400, &none(), ctx), LlmErrorKind::ContextTooLong);
        let rl = r#"{"error":{"message":"Rate limit reached for gpt-4. You can increase your rate limit by adding a payment method at https://platform.openai.com/account/billing.","type":"requests","code":"rate_limit_exceeded"}}"#;
        let headers = RateLimitSnapshot::from_headers(
            [("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "1s")],
            SystemTime::now(),
        );
        let kind = LlmErrorKind::classify(429, &headers, rl);
        assert_eq!(kind, LlmErrorKind::RateLimited { retry_after: Some(Duration::from_secs(1)) });
        assert!(kind.is_retryable() && !kind.should_switch_provider());
        let auth = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        assert_eq!(LlmErrorKind::classify(401, &none(), auth), LlmErrorKind::Fatal);
        assert_eq!(LlmErrorKind::classify(502, &none(), "<html>Bad gateway</html>"), LlmErrorKind::Transient);
        let busy = r#"{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error"}}"#;
        assert_eq!(LlmErrorKind::classify(503, &none(), busy), LlmErrorKind::Overloaded);
    }

    #[test]
    fn anthropic_errors() {
        let body =
            |t: &str, m: &str| format!(r#"{{"type":"error","error":{{"type":"{t}","message":"{m}"}}}}"#);
        let rl = RateLimitSnapshot::from_headers([("retry-after", "7")], SystemTime::now());
        assert_eq!(
            LlmErrorKind::classify(429, &rl, &body("rate_limit_error", "slow down")),
            LlmErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) }
        );
        assert_eq!(
            LlmErrorKind::classify(529, &none(), &body("overloaded_error", "Overloaded")),
            LlmErrorKind::Overloaded
        );
        let long = body("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum");
        assert_eq!(LlmErrorKind::classify(400, &none(), &long), LlmErrorKind::ContextTooLong);
        let credit =
            body("invalid_request_error", "Your credit balance is too low to access the Anthropic API");
        let kind = LlmErrorKind::classify(400, &none(), &credit);
        assert_eq!(kind, LlmErrorKind::QuotaExhausted);
        assert!(!kind.is_retryable() && kind.should_switch_provider());
        assert_eq!(
            LlmErrorKind::classify(500, &none(), &body("api_error", "internal")),
            LlmErrorKind::Transient
        );
        assert_eq!(
            LlmErrorKind::classify(413, &none(), &body("request_too_large", "big")),
            LlmErrorKind::ContextTooLong
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(status in 0u16..1000, body in "\\PC{0,200}") {
            let kind = LlmErrorKind::classify(status, &none(), &body);
            if status == 402 {
                prop_assert_eq!(kind, LlmErrorKind::QuotaExhausted);
            }
        }

        #[test]
        fn json_shaped_bodies_never_panic(t in "\\PC{0,20}", m in "\\PC{0,40}", status in 400u16..600) {
            let body = serde_json::json!({"error": {"type": t, "message": m, "code": [1, 2]}}).to_string();
            let _ = LlmErrorKind::classify(status, &none(), &body);
        }
    }
}
