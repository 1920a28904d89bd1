//! Hiding what a URL may carry in secret: its user information and query values.
//!
//! One set of functions serves every place a URL is shown or logged: probe details and
//! reasons, and (through the server's scrubber) logs, alert sinks and queue handlers.

/// The shortest text treated as a secret when scrubbing; shorter values (`x=1`) would
/// garble unrelated text and are not credentials anyway.
const MIN_SECRET_LEN: usize = 4;

/// The parts of a URL: everything up to the authority, user information, the rest of the
/// authority, the path, the query (without `?`) and the fragment (with `#`).
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    fragment: &'a str,
}

fn split(url: &str) -> Parts<'_> {
    let (scheme, rest) = url.find("://").map_or(("", url), |i| url.split_at(i + 3));
    let (rest, fragment) = rest.find('#').map_or((rest, ""), |i| rest.split_at(i));
    let (rest, query) = rest.split_once('?').map_or((rest, None), |(r, q)| (r, Some(q)));
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let (userinfo, host) = authority.rsplit_once('@').map_or((None, authority), |(u, h)| (Some(u), h));
    Parts { scheme, userinfo, host, path, query, fragment }
}

/// `url` safe to show: user information replaced by `***`, each query value by `***`.
///
/// ```
/// use elf_resilience_monitor::probes::redact_url;
///
/// assert_eq!(
///     redact_url("http://user:pass@127.0.0.1:8000/mcp?api_key=SECRET&v=2"),
///     "http://***@127.0.0.1:8000/mcp?api_key=***&v=***"
/// );
/// assert_eq!(redact_url("http://127.0.0.1/mcp"), "http://127.0.0.1/mcp");
/// ```
pub fn redact_url(url: &str) -> String {
    let p = split(url);
    let mut out = String::from(p.scheme);
    if p.userinfo.is_some() {
        out.push_str("***@");
    }
    out.push_str(p.host);
    out.push_str(p.path);
    if let Some(query) = p.query {
        out.push('?');
        let pairs: Vec<String> = query.split('&').map(|kv| redact_pair(kv).to_owned()).collect();
        out.push_str(&pairs.join("&"));
    }
    out.push_str(p.fragment);
    out
}

fn redact_pair(kv: &str) -> String {
    match kv.split_once('=') {
        Some((key, _)) => format!("{key}=***"),
        None if kv.is_empty() => String::new(),
        None => "***".to_owned(),
    }
}

/// The secret parts of `url`, longest first: the password (or the whole user information
/// when it is a bare token) and each query value. Values under four characters are left out.
///
/// ```
/// use elf_resilience_monitor::probes::url_secrets;
///
/// let secrets = url_secrets("http://bot:h4ndlerpw@127.0.0.1:9/replay?api_key=qu3rytok&x=1");
/// assert_eq!(secrets, ["h4ndlerpw", "qu3rytok"]);
/// assert_eq!(url_secrets("https://ghp_t0ken@example.com/"), ["ghp_t0ken"]);
/// assert!(url_secrets("http://127.0.0.1/mcp").is_empty());
/// ```
pub fn url_secrets(url: &str) -> Vec<String> {
    let p = split(url);
    let mut out: Vec<String> = Vec::new();
    if let Some(info) = p.userinfo {
        match info.split_once(':') {
            Some((_, password)) => out.push(password.to_owned()),
            // `postgres://app@db`: a user name, not a secret; `https://TOKEN@host`: a token.
            None if !names_a_user(url) => out.push(info.to_owned()),
            None => {}
        }
    }
    if let Some(query) = p.query {
        out.extend(query.split('&').filter_map(|kv| kv.split_once('=')).map(|(_, v)| v.to_owned()));
    }
    out.retain(|s| s.len() >= MIN_SECRET_LEN);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

/// Whether a lone userinfo in `url` (no `:password`) is a user name: in the URLs of databases
/// and caches it is; in an HTTP URL it is taken for a token.
fn names_a_user(url: &str) -> bool {
    let scheme = url.split_once("://").map_or("", |(s, _)| s).to_ascii_lowercase();
    matches!(scheme.as_str(), "postgres" | "postgresql" | "mysql" | "mariadb" | "redis" | "rediss")
}

/// `text` (an error message, a log line) with `url` shown redacted and every secret of it
/// replaced by `***`, however the text spells the URL.
///
/// ```
/// use elf_resilience_monitor::probes::scrub_url;
///
/// let url = "http://u:pa55@127.0.0.1:1/mcp?api_key=SECRET";
/// let text = "error sending request for url (http://127.0.0.1:1/mcp?api_key=SECRET)";
/// assert_eq!(scrub_url(text, url), "error sending request for url (http://127.0.0.1:1/mcp?api_key=***)");
/// assert_eq!(scrub_url("as u:pa55", url), "as u:***");
/// ```
pub fn scrub_url(text: &str, url: &str) -> String {
    let bare = without_userinfo(url);
    let shown = text.replace(url, &redact_url(url)).replace(&bare, &redact_url(&bare));
    url_secrets(url).iter().fold(shown, |t, s| t.replace(s.as_str(), "***"))
}

/// `url` as HTTP clients print it once they have moved its user information into a header.
fn without_userinfo(url: &str) -> String {
    let p = split(url);
    let query = p.query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}{}{}{query}{}", p.scheme, p.host, p.path, p.fragment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_urls_without_secrets_and_hides_every_query_value() {
        assert_eq!(redact_url("postgres://db:5432/app"), "postgres://db:5432/app");
        assert_eq!(redact_url("http://h/p?a=1&b&=x#frag"), "http://h/p?a=***&***&=***#frag");
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(redact_url("http://tok@h/"), "http://***@h/");
    }

    #[test]
    fn a_database_user_without_password_is_no_secret() {
        assert!(url_secrets("postgres://postgres@127.0.0.1:5432/test").is_empty());
        assert!(url_secrets("redis://app@127.0.0.1:6379").is_empty());
        let text = "postgres:app: connecting as postgres failed";
        assert_eq!(scrub_url(text, "postgres://postgres@127.0.0.1:5432/app"), text);
        assert_eq!(url_secrets("postgres://postgres:s3cret@db/app"), ["s3cret"]);
        assert_eq!(url_secrets("https://ghp_t0ken@example.com/"), ["ghp_t0ken"]);
    }

    #[test]
    fn scrubs_a_url_spelled_differently() {
        let url = "http://user:pass@127.0.0.1:9/mcp?api_key=SECRET";
        let text = "GET http://127.0.0.1:9/mcp?api_key=SECRET failed; user:pass rejected; key SECRET";
        let shown = scrub_url(text, url);
        assert!(!shown.contains("SECRET") && !shown.contains("pass"), "{shown}");
    }
}
