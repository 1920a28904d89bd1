//! Small value types that validate themselves while the config is parsed, so a bad value is
//! reported at its own line and column.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// A percentage, 0–100.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Percent(pub f64);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !(0.0..=100.0).contains(&v) {
            return Err(de::Error::custom(format!("expected a percentage between 0 and 100, found {v}")));
        }
        Ok(Self(v))
    }
}

/// A duration written the human way: `"250ms"`, `"30s"`, `"5m"`, `"1h30m"`, `"7d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// A duration of `secs` seconds.
    pub const fn secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }
}

/// Parses `"1h30m"`, `"250ms"`, `"30s"`, `"2d"`; `None` when malformed or zero-length text,
/// or longer than `u64::MAX` nanoseconds (about 584 years), the most [`format_duration`] can
/// write back in one unit.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let value: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let nanos_per: u64 = match &rest[..unit] {
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            _ => return None,
        };
        total = total.checked_add(value.checked_mul(nanos_per)?)?;
        rest = &rest[unit..];
    }
    Some(Duration::from_nanos(total))
}

/// Formats a duration the way [`parse_duration`] reads it.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        _ if ms.is_multiple_of(86_400_000) && ms > 0 => format!("{}d", ms / 86_400_000),
        _ if ms.is_multiple_of(3_600_000) && ms > 0 => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) && ms > 0 => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1000) => format!("{}s", ms / 1000),
        _ => format!("{ms}ms"),
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match parse_duration(&text) {
            Some(v) if !v.is_zero() => Ok(Self(v)),
            _ => Err(de::Error::custom(format!(
                "expected a positive duration like \"30s\", \"5m\", \"1h30m\" or \"250ms\", found {text:?}"
            ))),
        }
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

/// A secret (token, password): never printed, serialized as `"***"`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; use it only where it is sent, never where it is shown.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

/// A URL (http, https, postgres, redis, sqlite, tcp, ...) whose credentials are never shown:
/// `Display`, `Debug` and `Serialize` print it with the password, and a webhook's path, hidden.
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    raw: String,
    scheme_end: usize,
}

impl Url {
    /// Parses and checks `scheme://rest`; `allowed` lists the schemes accepted.
    pub fn parse(text: &str, allowed: &[&str]) -> Result<Self, String> {
        let Some(scheme_end) = text.find("://") else {
            return Err(format!("expected a URL like \"{}://host\", found {text:?}", allowed[0]));
        };
        let scheme = &text[..scheme_end];
        if !allowed.contains(&scheme) {
            return Err(format!("expected a URL with scheme {}, found {scheme:?}", allowed.join(" or ")));
        }
        if text[scheme_end + 3..].is_empty() && scheme != "sqlite" {
            return Err(format!("expected a host after \"{scheme}://\""));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(format!("expected a URL without spaces, found {text:?}"));
        }
        if scheme != "sqlite" {
            // PostgreSQL may name no host: a Unix socket (`postgres:///app?host=/run/postgresql`).
            check_authority(&text[scheme_end + 3..], scheme.starts_with("postgres"))?;
        }
        Ok(Self { raw: text.to_owned(), scheme_end })
    }

    /// The scheme (`http`, `postgres`, ...).
    pub fn scheme(&self) -> &str {
        &self.raw[..self.scheme_end]
    }

    /// The full URL, credentials included: for connecting only.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// `host[:port]`, without credentials or path.
    pub fn authority(&self) -> &str {
        let rest = &self.raw[self.scheme_end + 3..];
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let auth = &rest[..end];
        auth.rsplit_once('@').map_or(auth, |(_, host)| host)
    }

    /// The URL safe to show: password replaced by `***`; for webhooks (http/https with a
    /// path beyond `/`), the path replaced by `/***` since it usually carries the secret.
    pub fn redacted(&self) -> String {
        let rest = &self.raw[self.scheme_end + 3..];
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (auth, path) = rest.split_at(end);
        let auth = match auth.rsplit_once('@') {
            Some((user, host)) => match user.split_once(':') {
                Some((name, _)) => format!("{name}:***@{host}"),
                None => format!("{user}@{host}"),
            },
            None => auth.to_owned(),
        };
        let web = matches!(self.scheme(), "http" | "https");
        let path = if web && path.len() > 1 { "/***" } else { path };
        let path = if web { path } else { path.split('?').next().unwrap_or("") };
        format!("{}://{auth}{path}", self.scheme())
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({})", self.redacted())
    }
}

impl Serialize for Url {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// Checks the `[user[:password]@]host[:port]` part after `scheme://`: a host, and a port, if
/// given, from 1 to 65535.
fn check_authority(rest: &str, may_omit_host: bool) -> Result<(), String> {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host_port = rest[..end].rsplit_once('@').map_or(&rest[..end], |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (host, after) =
                v6.split_once(']').ok_or_else(|| format!("expected `]` after the IPv6 host in {rest:?}"))?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() && !may_omit_host {
        return Err(format!("expected a host before the path, found {:?}", &rest[..end]));
    }
    match port.map(|p| p.parse::<u16>()) {
        Some(Ok(0) | Err(_)) => {
            Err(format!("expected a port from 1 to 65535, found {:?}", port.unwrap_or_default()))
        }
        _ => Ok(()),
    }
}

/// Declares a URL newtype accepting the given schemes.
macro_rules! url_type {
    ($(#[$doc:meta])* $name:ident, [$($scheme:literal),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Url);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Url::parse(&text, &[$($scheme),+]).map(Self).map_err(de::Error::custom)
            }
        }
    };
}

url_type!(
    /// An `http://` or `https://` URL.
    HttpUrl, ["http", "https"]
);
url_type!(
    /// A database URL: `postgres://`, `postgresql://` or `sqlite://`.
    DatabaseUrl, ["postgres", "postgresql", "sqlite"]
);
url_type!(
    /// A `redis://` or `rediss://` URL.
    RedisUrl, ["redis", "rediss"]
);

/// A socket address to listen on (`127.0.0.1:8686`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Bind(pub SocketAddr);

impl<'de> Deserialize<'de> for Bind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(Self).map_err(|_| {
            de::Error::custom(format!("expected an address like \"127.0.0.1:8686\", found {text:?}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("3x"), None);
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
    }

    /// Found by fuzzing: parts that each fit summed to more than `format_duration` can write in
    /// one unit, so the value did not read back.
    #[test]
    fn a_sum_of_parts_past_the_nanosecond_range_is_refused() {
        assert_eq!(parse_duration("51d11d56311d201111d56m"), None);
        assert_eq!(parse_duration("213503d213503d"), None);
        let most = parse_duration("213503d23h34m33s709ms").expect("the longest duration in range");
        assert_eq!(parse_duration(&format_duration(most)), Some(most));
        assert_eq!(parse_duration("213503d23h34m33s710ms"), None, "one millisecond more is out of range");
    }

    #[test]
    fn urls_hide_credentials() {
        let u = Url::parse("postgres://app:hunter2@db:5432/main?sslmode=require", &["postgres"]).unwrap();
        assert_eq!(u.redacted(), "postgres://app:***@db:5432/main");
        assert_eq!(u.authority(), "db:5432");
        let hook = Url::parse("https://hooks.example.com/services/T0/B0/XyZ", &["https"]).unwrap();
        assert_eq!(hook.to_string(), "https://hooks.example.com/***");
        assert!(!format!("{hook:?}").contains("XyZ"));
        assert!(Url::parse("ftp://x", &["http"]).is_err());
    }
}
