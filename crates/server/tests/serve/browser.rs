//! Headless Chromium over a served dashboard: the DOM once the page's scripts have run, what
//! the page wrote to its console, and the status of every response it got (from Chromium's
//! own network log).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// What Chromium saw of a page.
#[derive(Debug)]
pub struct Rendered {
    /// The DOM after the scripts ran.
    pub dom: String,
    /// Console messages and uncaught errors.
    pub console: Vec<String>,
    /// `(url, HTTP status)` of every response from the page's origin.
    pub responses: Vec<(String, u16)>,
}

impl Rendered {
    /// The markup of the element whose opening tag carries `attr` (e.g. `data-resource="cpu"`),
    /// up to the next element carrying the same attribute name.
    pub fn element(&self, attr: &str) -> &str {
        let name = attr.split('=').next().unwrap_or(attr);
        let start = self.dom.find(attr).unwrap_or_else(|| panic!("no element with {attr} in {}", self.dom));
        let rest = &self.dom[start + attr.len()..];
        let end = rest.find(&format!("{name}=")).map_or(self.dom.len(), |e| start + attr.len() + e);
        &self.dom[start..end]
    }
}

/// The text of some markup: each tag a space, runs of whitespace one space.
pub fn text(markup: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in markup.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `chromium` is there; only outside CI may it be missing (the test then skips).
pub fn chromium_or_skip() -> bool {
    let found = Command::new("chromium")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "`chromium` is required in CI (.ci/install-tools)");
        println!("skipping: `chromium` is not installed and CI is unset");
    }
    found
}

/// Loads `base/` in headless Chromium with a profile under `dir`, letting its scripts run for a
/// few seconds of virtual time.
pub fn render(base: &str, dir: &Path) -> Rendered {
    let net_log = dir.join("net-log.json");
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .args(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("--user-data-dir={}", dir.join("chromium-profile").display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg(format!("{base}/"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    let console = stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_owned).collect();
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&net_log).unwrap()).unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    Rendered { dom, console, responses: responses(&log, base) }
}

/// Pairs each request's URL with the status line of its response, by the log's source ids.
fn responses(log: &Value, base: &str) -> Vec<(String, u16)> {
    let types = &log["constants"]["logEventTypes"];
    let (start, headers) =
        (&types["URL_REQUEST_START_JOB"], &types["HTTP_TRANSACTION_READ_RESPONSE_HEADERS"]);
    let mut urls = HashMap::new();
    let mut out = Vec::new();
    for event in log["events"].as_array().into_iter().flatten() {
        let source = event["source"]["id"].as_u64();
        if &event["type"] == start {
            urls.insert(source, event["params"]["url"].as_str().unwrap_or_default().to_owned());
        } else if &event["type"] == headers {
            let line = event["params"]["headers"][0].as_str().unwrap_or_default();
            let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            let url = urls.get(&source).cloned().unwrap_or_default();
            if url.starts_with(base) {
                out.push((url, status));
            }
        }
    }
    out
}
