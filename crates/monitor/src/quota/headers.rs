//! Provider rate-limit headers (OpenAI `x-ratelimit-*`, Anthropic `anthropic-ratelimit-*`,
//! `retry-after`, `retry-after-ms`) read into one [`RateLimitSnapshot`].

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::parse::{parse_go_duration, parse_millis, parse_retry_after, parse_rfc3339};

/// One provider limit as the last response described it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LimitState {
    /// The limit for the window.
    pub limit: Option<u64>,
    /// What is left of it.
    pub remaining: Option<u64>,
    /// When the window resets, from the time the headers were read.
    pub reset_after: Option<Duration>,
}

impl LimitState {
    /// Percent used, `(limit - remaining) / limit`, when both are known and the limit is not 0.
    pub fn used_percent(&self) -> Option<f64> {
        let (limit, remaining) = (self.limit?, self.remaining?);
        (limit > 0).then(|| limit.saturating_sub(remaining) as f64 * 100.0 / limit as f64)
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Which limit a header speaks of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LimitKind {
    /// Requests per window.
    Requests,
    /// Tokens per window (all tokens).
    Tokens,
    /// Input tokens per window (Anthropic).
    InputTokens,
    /// Output tokens per window (Anthropic).
    OutputTokens,
}

/// What a provider's response headers say about its rate limits.
///
/// ```
/// use elf_resilience_monitor::{LimitKind, RateLimitSnapshot};
/// use std::time::{Duration, SystemTime};
///
/// let snap = RateLimitSnapshot::from_headers(
///     [("x-ratelimit-limit-tokens", "10000"), ("x-ratelimit-remaining-tokens", "500"),
///      ("x-ratelimit-reset-tokens", "6m0s")],
///     SystemTime::now(),
/// );
/// let tokens = snap.limit(LimitKind::Tokens).unwrap();
/// assert_eq!(tokens.used_percent(), Some(95.0));
/// assert_eq!(tokens.reset_after, Some(Duration::from_secs(360)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RateLimitSnapshot {
    /// The limits seen, by kind.
    pub limits: Vec<(LimitKind, LimitState)>,
    /// How long the provider asks callers to wait (`retry-after-ms` wins over `retry-after`).
    pub retry_after: Option<Duration>,
}

enum Field {
    Limit,
    Remaining,
    Reset,
}

impl RateLimitSnapshot {
    /// Reads the rate-limit headers among `headers` (name, value), names in any case. `now` is
    /// the wall time the response arrived, for absolute resets. Unreadable values are skipped
    /// with a debug event.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>, now: SystemTime) -> Self {
        let mut snap = Self::default();
        let mut retry_after_ms = None;
        for (name, value) in headers {
            let name = name.trim().to_ascii_lowercase();
            match name.as_str() {
                "retry-after" => snap.retry_after = note(&name, value, parse_retry_after(value, now)),
                "retry-after-ms" => retry_after_ms = note(&name, value, parse_millis(value)),
                _ => snap.read_limit(&name, value, now),
            }
        }
        snap.retry_after = retry_after_ms.or(snap.retry_after);
        snap.limits.retain(|(_, s)| !s.is_empty());
        snap
    }

    /// Reads the rate-limit headers of an HTTP response (feature `http`).
    #[cfg(feature = "http")]
    pub fn from_header_map(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Self {
        Self::from_headers(headers.iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))), now)
    }

    /// The state of one limit, if the headers spoke of it.
    pub fn limit(&self, kind: LimitKind) -> Option<&LimitState> {
        self.limits.iter().find(|(k, _)| *k == kind).map(|(_, s)| s)
    }

    /// Whether the headers said nothing about rate limits.
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty() && self.retry_after.is_none()
    }

    /// The highest percent used over all limits; 100 when the provider asked to wait.
    pub fn worst_percent(&self) -> Option<f64> {
        let worst = self.limits.iter().filter_map(|(_, s)| s.used_percent()).reduce(f64::max);
        if self.retry_after.is_some_and(|d| !d.is_zero()) { Some(100.0) } else { worst }
    }

    fn read_limit(&mut self, name: &str, value: &str, now: SystemTime) {
        let Some((kind, field, absolute)) = classify(name) else { return };
        let state = self.state_mut(kind);
        match field {
            Field::Limit => state.limit = note(name, value, value.trim().parse().ok()),
            Field::Remaining => state.remaining = note(name, value, value.trim().parse().ok()),
            Field::Reset if absolute => {
                let at = parse_rfc3339(value);
                state.reset_after =
                    note(name, value, at.map(|t| t.duration_since(now).unwrap_or(Duration::ZERO)));
            }
            Field::Reset => state.reset_after = note(name, value, parse_go_duration(value)),
        }
    }

    fn state_mut(&mut self, kind: LimitKind) -> &mut LimitState {
        let at = match self.limits.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                self.limits.push((kind, LimitState::default()));
                self.limits.len() - 1
            }
        };
        &mut self.limits[at].1
    }
}

/// Which limit and field a lowercase header name is; `true` when its reset is an RFC 3339 time.
fn classify(name: &str) -> Option<(LimitKind, Field, bool)> {
    if let Some(rest) = name.strip_prefix("x-ratelimit-") {
        let (field, kind) = rest.split_once('-')?;
        let field = match field {
            "limit" => Field::Limit,
            "remaining" => Field::Remaining,
            "reset" => Field::Reset,
            _ => return None,
        };
        return Some((kind_of(kind)?, field, false));
    }
    let rest = name.strip_prefix("anthropic-ratelimit-")?;
    let (kind, field) = rest.rsplit_once('-')?;
    let field = match field {
        "limit" => Field::Limit,
        "remaining" => Field::Remaining,
        "reset" => Field::Reset,
        _ => return None,
    };
    Some((kind_of(kind)?, field, true))
}

fn kind_of(s: &str) -> Option<LimitKind> {
    Some(match s {
        "requests" => LimitKind::Requests,
        "tokens" => LimitKind::Tokens,
        "input-tokens" => LimitKind::InputTokens,
        "output-tokens" => LimitKind::OutputTokens,
        _ => return None,
    })
}

/// Passes a parsed value through, leaving a debug event when it could not be read.
fn note<T>(name: &str, value: &str, parsed: Option<T>) -> Option<T> {
    if parsed.is_none() {
        tracing::debug!(header = name, value, "ignoring an unreadable rate-limit header");
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::UNIX_EPOCH;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_735_689_600) // 2025-01-01T00:00:00Z
    }

    #[test]
    fn anthropic_headers_with_rfc3339_resets() {
        let snap = RateLimitSnapshot::from_headers(
            [
                ("Anthropic-RateLimit-Requests-Limit", "50"),
                ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", "2025-01-01T00:00:30Z"),
                ("anthropic-ratelimit-output-tokens-limit", "8000"),
                ("anthropic-ratelimit-output-tokens-remaining", "6000"),
                ("anthropic-ratelimit-input-tokens-reset", "yesterday"),
            ],
            now(),
        );
        let req = snap.limit(LimitKind::Requests).unwrap();
        assert_eq!((req.used_percent(), req.reset_after), (Some(100.0), Some(Duration::from_secs(30))));
        assert_eq!(snap.limit(LimitKind::OutputTokens).unwrap().used_percent(), Some(25.0));
        assert_eq!(snap.limit(LimitKind::InputTokens), None, "an unreadable reset leaves nothing");
        assert_eq!(snap.worst_percent(), Some(100.0));
    }

    #[test]
    fn retry_after_ms_wins_and_forces_full_usage() {
        let snap = RateLimitSnapshot::from_headers(
            [("retry-after", "20"), ("retry-after-ms", "1500"), ("x-ratelimit-limit-requests", "x")],
            now(),
        );
        assert_eq!(snap.retry_after, Some(Duration::from_millis(1500)));
        assert!(snap.limits.is_empty());
        assert_eq!(snap.worst_percent(), Some(100.0));
        assert!(RateLimitSnapshot::from_headers([("content-type", "json")], now()).is_empty());
    }

    #[cfg(feature = "http")]
    #[test]
    fn reads_a_header_map() {
        let mut map = reqwest::header::HeaderMap::new();
        map.insert("x-ratelimit-limit-requests", "100".parse().unwrap());
        map.insert("x-ratelimit-remaining-requests", "60".parse().unwrap());
        map.insert("x-ratelimit-reset-requests", "20ms".parse().unwrap());
        let snap = RateLimitSnapshot::from_header_map(&map, now());
        let req = snap.limit(LimitKind::Requests).unwrap();
        assert_eq!((req.used_percent(), req.reset_after), (Some(40.0), Some(Duration::from_millis(20))));
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic(
            pairs in proptest::collection::vec((
                prop_oneof![Just("x-ratelimit-reset-tokens".to_owned()), Just("anthropic-ratelimit-tokens-reset".to_owned()),
                    Just("retry-after".to_owned()), Just("retry-after-ms".to_owned()), "\\PC{0,30}"],
                "\\PC{0,30}"), 0..8)
        ) {
            let snap = RateLimitSnapshot::from_headers(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), now());
            if let Some(p) = snap.worst_percent() {
                prop_assert!((0.0..=100.0).contains(&p));
            }
        }
    }
}
