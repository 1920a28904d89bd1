//! Keeps secrets out of logs and API output: every secret known from the config is replaced
//! by `***` wherever it appears. What counts as a URL's secret (user information, query values)
//! is decided in one place, [`url_secrets`], which the probes use for their own details too.

use std::io::Write;
use std::sync::Arc;

use elf_resilience::probes::url_secrets;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{AlertSink, Config, Url};

/// The secrets to hide, longest first so a secret containing another is hidden whole.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<Vec<String>>,
}

impl Redactor {
    /// Collects the token, the user information and query values of every configured URL
    /// (databases, Redis, MCP servers, queue handlers), and webhook URLs of `config` (plus
    /// `extra`).
    pub fn from_config(config: &Config, extra: &[&str]) -> Self {
        let mut secrets: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        secrets.extend(config.server.token.as_ref().map(|t| t.expose().to_owned()));
        let urls = config.probes.databases.iter().map(|d| &d.url.0);
        let urls = urls.chain(config.storage.redis_url.iter().map(|r| &r.0));
        let urls = urls.chain(config.probes.mcp_servers.iter().filter_map(|m| m.url.as_ref().map(|u| &u.0)));
        secrets.extend(urls.flat_map(|u| url_secrets(u.expose())));
        for h in &config.queue.handlers {
            let parts = url_secrets(h.url.0.expose());
            if !parts.is_empty() {
                secrets.push(h.url.0.expose().to_owned());
            }
            secrets.extend(parts);
        }
        for sink in &config.alerts {
            if let AlertSink::Webhook { url } = sink {
                secrets.push(url.0.expose().to_owned());
                secrets.extend(path_of(&url.0));
            }
        }
        secrets.retain(|s| s.len() >= 4);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets: Arc::new(secrets) }
    }

    /// `text` with every secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_owned(), |t, s| t.replace(s.as_str(), "***"))
    }

    /// Serializes `value` as JSON and scrubs it.
    pub fn json<T: serde::Serialize>(&self, value: &T) -> serde_json::Value {
        let text = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
        serde_json::from_str(&self.scrub(&text)).unwrap_or(serde_json::Value::Null)
    }
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
            token = "tok-123456"
        "#;
        let config = Config::parse(text, std::path::Path::new("t.toml")).unwrap();
        let r = Redactor::from_config(&config, &[]);
        let shown = r.scrub(
            "pa55word tok-123456 https://hooks.example.com/services/T1/B2/sEcReT /services/T1/B2/sEcReT",
        );
        assert_eq!(shown, "*** *** *** ***");
    }

    #[test]
    fn hides_queue_handler_credentials_and_query_tokens() {
        let text = "[[queue.handlers]]\nname = \"llm\"\nurl = \"http://bot:h4ndlerpw@127.0.0.1:9/replay?api_key=qu3rytok&x=1\"\n";
        let config = Config::parse(text, std::path::Path::new("t.toml")).unwrap();
        let r = Redactor::from_config(&config, &[]);
        let shown =
            r.scrub("h4ndlerpw qu3rytok http://bot:h4ndlerpw@127.0.0.1:9/replay?api_key=qu3rytok&x=1");
        assert_eq!(shown, "*** *** ***");
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
}
