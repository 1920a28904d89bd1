//! Keeps secrets out of logs and API output. Output is redacted by its structure: JSON is
//! walked and only its string values are scrubbed, so a secret never changes a number, a
//! boolean, a key or the shape of a document. In a string, every secret-bearing URL known from
//! the config is replaced by its redacted form (`http://***@host/path?key=***`, however short
//! the secrets in it), then the secrets themselves wherever else they appear: the token,
//! passwords, webhook URLs and paths, and query values whose name says secret (`api_key`,
//! `token`, `password`, ...; [`url_secrets`] decides what a URL holds, and the probes use it
//! for their own details too). Other query values (`?debug=true`, `?mode=pass`) stay hidden in
//! the URL but are not hunted for elsewhere, where they would mangle ordinary words.

use std::io::Write;
use std::sync::Arc;

use elf_resilience::probes::{redact_url, url_secrets};
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{AlertSink, Config, Url};

/// A secret shorter than this is hidden only as part of its URL: as a bare substring it would
/// match ordinary text.
const MIN_BARE_SECRET: usize = 4;

/// Query parameter names whose values are secrets wherever they appear.
const SECRET_NAMES: [&str; 12] = [
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "auth",
    "sig",
    "credential",
    "session",
    "jwt",
    "bearer",
    "code",
];

/// The secrets to hide: whole URLs first (longest first), then bare secrets (longest first, so
/// a secret containing another is hidden whole).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    urls: Arc<Vec<(String, String)>>,
    secrets: Arc<Vec<String>>,
}

impl Redactor {
    /// Collects the token, every configured URL (databases, Redis, MCP servers, queue
    /// handlers, webhooks) with the secrets in it, and `extra`.
    pub fn from_config(config: &Config, extra: &[&str]) -> Self {
        let mut secrets: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        secrets.extend(config.server.token.as_ref().map(|t| t.expose().to_owned()));
        let urls = config.probes.databases.iter().map(|d| &d.url.0);
        let urls = urls.chain(config.storage.redis_url.iter().map(|r| &r.0));
        let urls = urls.chain(config.probes.mcp_servers.iter().filter_map(|m| m.url.as_ref().map(|u| &u.0)));
        let urls = urls.chain(config.queue.handlers.iter().map(|h| &h.url.0));
        let mut shown: Vec<(String, String)> = Vec::new();
        for url in urls.map(Url::expose) {
            secrets.extend(bare_secrets(url));
            shown.extend(url_forms(url));
        }
        for sink in &config.alerts {
            if let AlertSink::Webhook { url, .. } = sink {
                secrets.push(url.0.expose().to_owned());
                secrets.extend(path_of(&url.0));
            }
        }
        secrets.retain(|s| s.len() >= MIN_BARE_SECRET);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        shown.sort_by_key(|(raw, _)| std::cmp::Reverse(raw.len()));
        shown.dedup();
        Self { urls: Arc::new(shown), secrets: Arc::new(secrets) }
    }

    /// `text` with every known URL redacted and every secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let text = self.urls.iter().fold(text.to_owned(), |t, (raw, shown)| t.replace(raw.as_str(), shown));
        self.secrets.iter().fold(text, |t, s| t.replace(s.as_str(), "***"))
    }

    /// `value` as JSON with its string values scrubbed; keys, numbers, booleans and the
    /// document's shape are kept.
    pub fn json<T: serde::Serialize>(&self, value: &T) -> serde_json::Value {
        let mut json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.scrub_strings(&mut json);
        json
    }

    fn scrub_strings(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) if self.touches(s) => *s = self.scrub(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_strings(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.scrub_strings(v)),
            _ => {}
        }
    }

    /// Whether `text` holds anything to hide (most strings do not, and are left as they are).
    fn touches(&self, text: &str) -> bool {
        self.urls.iter().any(|(raw, _)| text.contains(raw.as_str()))
            || self.secrets.iter().any(|s| text.contains(s.as_str()))
    }
}

/// The secrets of `url` hunted for on their own: the password (or bare token) of its user
/// information, and the values of query parameters whose name says secret.
fn bare_secrets(url: &str) -> Vec<String> {
    let named_secret = |name: &str| {
        let name = name.to_ascii_lowercase();
        SECRET_NAMES.iter().any(|n| name.contains(n))
    };
    let query = url.split_once('?').map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    let pairs: Vec<(&str, &str)> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
    // The user information's secret, and query values only under a secret name.
    let hunted = |s: &String| {
        pairs.iter().all(|(_, v)| *v != s.as_str())
            || pairs.iter().any(|(k, v)| *v == s.as_str() && named_secret(k))
    };
    url_secrets(url).into_iter().filter(hunted).collect()
}

/// `url` and its spelling without user information, each with its redacted form; nothing
/// when the URL holds no secret.
fn url_forms(url: &str) -> Vec<(String, String)> {
    let shown = redact_url(url);
    if shown == url {
        return Vec::new();
    }
    let mut forms = vec![(url.to_owned(), shown)];
    if let Some((scheme, (_, host_on))) =
        url.split_once("://").and_then(|(s, r)| Some((s, r.split_once('@')?)))
    {
        let bare = format!("{scheme}://{host_on}");
        let bare_shown = redact_url(&bare);
        if bare_shown != bare {
            forms.push((bare, bare_shown));
        }
    }
    forms
}

fn path_of(url: &Url) -> Option<String> {
    let raw = url.expose();
    let rest = &raw[raw.find("://")? + 3..];
    let path = &rest[rest.find('/')?..];
    (path.len() > 1).then(|| path.to_owned())
}

/// A `MakeWriter` for `tracing_subscriber` that scrubs each line before it reaches stderr.
#[derive(Debug, Clone)]
pub struct ScrubbedStderr(pub Redactor);

/// One log line's buffer.
#[derive(Debug)]
pub struct LineWriter {
    redactor: Redactor,
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let line = self.redactor.scrub(&String::from_utf8_lossy(&self.buf));
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

impl<'a> MakeWriter<'a> for ScrubbedStderr {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> LineWriter {
        LineWriter { redactor: self.0.clone(), buf: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_passwords_tokens_and_webhooks() {
        let text = r#"
            alerts = [{ kind = "webhook", url = "https://hooks.example.com/services/T1/B2/sEcReT" }]
            [[probes.databases]]
            name = "main"
            url = "postgres://app:pa55word@db/main"
            [server]
            token = "tok-0123456789abcdef"
        "#;
        let config = Config::parse(text, std::path::Path::new("t.toml")).unwrap();
        let r = Redactor::from_config(&config, &[]);
        let shown = r.scrub(
            "pa55word tok-0123456789abcdef https://hooks.example.com/services/T1/B2/sEcReT /services/T1/B2/sEcReT",
        );
        assert_eq!(shown, "*** *** *** ***");
        assert_eq!(r.scrub("postgres://app:pa55word@db/main"), "postgres://***@db/main");
    }

    #[test]
    fn hides_queue_handler_credentials_and_query_tokens() {
        let text = "[[queue.handlers]]\nname = \"llm\"\nurl = \"http://bot:h4ndlerpw@127.0.0.1:9/replay?api_key=qu3rytok&x=1\"\n";
        let config = Config::parse(text, std::path::Path::new("t.toml")).unwrap();
        let r = Redactor::from_config(&config, &[]);
        let shown =
            r.scrub("h4ndlerpw qu3rytok http://bot:h4ndlerpw@127.0.0.1:9/replay?api_key=qu3rytok&x=1");
        assert_eq!(shown, "*** *** http://***@127.0.0.1:9/replay?api_key=***&x=***");
        let json = serde_json::to_string(&config.queue.handlers).unwrap();
        assert!(!json.contains("h4ndlerpw") && !json.contains("qu3rytok"), "{json}");
    }

    #[test]
    fn hides_mcp_url_credentials_and_query_values() {
        let text = "[[probes.mcp_servers]]\nname = \"search\"\nurl = \"http://user:pa55@127.0.0.1:9/mcp?api_key=SECRET\"\n";
        let config = Config::parse(text, std::path::Path::new("t.toml")).unwrap();
        let r = Redactor::from_config(&config, &[]);
        let shown =
            r.scrub("error sending request for url (http://127.0.0.1:9/mcp?api_key=SECRET) as user:pa55");
        assert!(!shown.contains("SECRET") && !shown.contains("pa55"), "{shown}");
    }

    fn redactor(url: &str) -> Redactor {
        let text = format!("[[queue.handlers]]\nname = \"llm\"\nurl = \"{url}\"\n");
        Redactor::from_config(&Config::parse(&text, std::path::Path::new("t.toml")).unwrap(), &[])
    }

    #[test]
    fn output_keeps_its_shape_whatever_the_query_values_are() {
        let r = redactor("http://127.0.0.1:9/replay?debug=true&mode=pass&n=1");
        let health =
            serde_json::json!({ "status": "pass", "checks": { "db": [{ "observedValue": 1, "ok": true }] } });
        assert_eq!(r.json(&health), health, "ordinary values are not secrets");
        assert_eq!(r.scrub("passed true"), "passed true");
        let shown = r.scrub("POST http://127.0.0.1:9/replay?debug=true&mode=pass&n=1 failed");
        assert_eq!(
            shown, "POST http://127.0.0.1:9/replay?debug=***&mode=***&n=*** failed",
            "the URL itself is hidden"
        );
    }

    #[test]
    fn short_secrets_are_hidden_in_their_url_and_json_strings_only_are_scrubbed() {
        let r = redactor("http://u:pw@127.0.0.1:9/replay?api_key=k1");
        let doc = serde_json::json!({
            "url": "http://u:pw@127.0.0.1:9/replay?api_key=k1",
            "error": "delivery to http://127.0.0.1:9/replay?api_key=k1 refused",
            "pw": 2,
            "word": "k1 pw",
        });
        let shown = r.json(&doc);
        assert_eq!(shown["url"], "http://***@127.0.0.1:9/replay?api_key=***");
        assert_eq!(shown["error"], "delivery to http://127.0.0.1:9/replay?api_key=*** refused");
        assert_eq!(
            (shown["pw"].clone(), shown["word"].clone()),
            (serde_json::json!(2), serde_json::json!("k1 pw"))
        );
    }
}
