//! End to end: the real binary serving on a free port, scraped by `promtool`, rendered by
//! headless Chromium, stopped with SIGTERM; secrets checked everywhere along the way.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const TOKEN: &str = "e2e-token-7f3a9c";
const DB_PASSWORD: &str = "e2e-db-pass-41";
const HOOK_SECRET: &str = "e2e-hook-secret-99";
const HANDLER_PASSWORD: &str = "e2e-handler-pw-5";
const HANDLER_TOKEN: &str = "e2e-handler-tok-8";

/// Whether a tool may be missing: only outside CI.
fn tool_or_skip(tool: &str) -> bool {
    let found =
        Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{tool}` is required in CI (installed by .ci/install-tools)"
        );
        println!("skipping the {tool} part: `{tool}` is not installed and CI is unset");
    }
    found
}

fn config(dir: &Path) -> String {
    let pg = std::env::var("ELF_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:1/test".into());
    let pg = pg.replacen("://postgres@", &format!("://postgres:{DB_PASSWORD}@"), 1);
    format!(
        "[[probes.databases]]\nname = \"main\"\nurl = \"{pg}\"\n\
         [[alerts]]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hooks/{HOOK_SECRET}\"\n\
         [[probes.endpoints]]\nname = \"gone\"\ntcp = \"127.0.0.1:9\"\n\
         [[probes.mcp_servers]]\nname = \"files\"\nurl = \"http://127.0.0.1:9/mcp\"\n\
         [[health.checks]]\nname = \"main-db\"\nkind = \"resource\"\ntarget = \"database\"\ncritical = false\n\
         [storage]\ndata_dir = \"{}\"\n[server]\ntoken = \"{TOKEN}\"\n\
         [queue]\ninterval = \"200ms\"\n[[queue.handlers]]\nname = \"llm\"\ntimeout = \"1s\"\n\
         url = \"http://bot:{HANDLER_PASSWORD}@127.0.0.1:9/replay?token={HANDLER_TOKEN}\"\n",
        dir.join("data").display()
    )
}

/// Before the server starts: a request queued for the (unreachable) handler, and a breaker
/// published by another process.
fn seed(dir: &Path) {
    use elf_resilience::{BreakerPublisher, CircuitBreakerRegistry, EnqueueRequest, Owner, RequestQueue};
    let data = dir.join("data");
    let queue = elf_resilience::SqliteQueue::open(data.join("queue.db")).unwrap();
    queue
        .enqueue(
            EnqueueRequest::new("llm", serde_json::json!({"prompt": "hi"})),
            std::time::SystemTime::now(),
        )
        .unwrap();
    let store =
        std::sync::Arc::new(elf_resilience::SqliteBreakerStore::open(data.join("breakers.db")).unwrap());
    let registry = std::sync::Arc::new(CircuitBreakerRegistry::default());
    registry.get_or_create("openai-remote").trip();
    BreakerPublisher::new(registry, store).owner(Owner::named("worker-e2e")).tick().unwrap();
}

struct Server {
    child: Child,
    base: String,
}

fn start(dir: &Path) -> Server {
    std::fs::write(dir.join("elf-resilience.toml"), config(dir)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_elf-resilience"))
        .current_dir(dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "debug")
        .env_remove("ELF_RESILIENCE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("serve prints its address").unwrap();
    let base = first.rsplit(' ').next().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");
    Server { child, base }
}

async fn get(base: &str, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn assert_no_secrets(what: &str, text: &str) {
    for secret in [TOKEN, DB_PASSWORD, HOOK_SECRET, HANDLER_PASSWORD, HANDLER_TOKEN] {
        assert!(!text.contains(secret), "{what} leaks `{secret}`");
    }
}

fn promtool(metrics: &str) {
    if !tool_or_skip("promtool") {
        return;
    }
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(p.stdin.as_mut().unwrap(), metrics.as_bytes()).unwrap();
    let out = p.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool check metrics failed:\n{said}\n--- metrics ---\n{metrics}");
}

/// `/metrics` once the network and MCP probes have sampled (the samplers start with the server).
async fn scrape_once_probed(base: &str) -> String {
    for _ in 0..200 {
        let (code, metrics) = get(base, "/metrics").await;
        assert_eq!(code, 200);
        if metrics.contains("elf_network_probe_down_total{") && metrics.contains("elf_mcp_probe_down_total{")
        {
            return metrics;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the probes never sampled: {}", get(base, "/metrics").await.1);
}

/// The samples of `family` (not of longer names sharing its prefix).
fn samples<'a>(metrics: &'a str, family: &str) -> Vec<&'a str> {
    let of = |l: &&str| l.strip_prefix(family).is_some_and(|r| r.starts_with('{') || r.starts_with(' '));
    metrics.lines().filter(of).collect()
}

/// Names, labels, help texts and ranges of the exposition.
fn check_metrics(metrics: &str) {
    let has = |line: &str| metrics.lines().any(|l| l.starts_with(line));
    assert!(has(&format!("elf_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{metrics}");
    assert!(has("elf_probe_usage_ratio{resource=\"memory\",probe=\"host\"} "), "{metrics}");
    assert!(has("elf_probe_up{resource=\"memory\",probe=\"host\"} 1"), "{metrics}");
    assert!(has("elf_probe_up{resource=\"network\",probe=\"tcp:gone\"} 0"), "{metrics}");
    assert!(has("elf_probe_up{resource=\"mcp_server\",probe=\"mcp:files\"} 0"), "{metrics}");
    assert!(has("elf_probe_latency_seconds{resource=\"network\",probe=\"tcp:gone\"} "), "{metrics}");
    assert!(has("elf_network_probe_down_total{probe=\"tcp:gone\"} "), "{metrics}");
    assert!(has("elf_mcp_probe_down_total{probe=\"mcp:files\"} "), "{metrics}");
    let downs = samples(metrics, "elf_network_probe_down_total");
    assert_eq!(downs.len(), 1, "only network probes count network downs: {downs:?}");
    let aggregate = samples(metrics, "elf_resource_usage_ratio");
    assert_eq!(aggregate.len(), 8, "one per resource type, no per-probe series: {aggregate:?}");
    assert!(aggregate.iter().all(|l| !l.contains("probe=")), "{aggregate:?}");
    for line in metrics.lines().filter(|l| l.starts_with("elf_") && l.contains("_ratio")) {
        let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&value), "a ratio out of 0..=1: {line}");
    }
    for help in metrics.lines().filter_map(|l| l.strip_prefix("# HELP elf_")) {
        let (name, text) = help.split_once(' ').unwrap();
        assert_ne!(text, format!("elf_{name}").replace('_', " "), "generic help for elf_{name}");
    }
    for value in metrics.split("=\"").skip(1).filter_map(|r| r.split('"').next()) {
        let shouting = value.chars().any(|c| c.is_ascii_uppercase())
            && value.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        assert!(!shouting, "label values are lower case: {value}");
    }
}

fn chromium(base: &str, dir: &Path) {
    if !tool_or_skip("chromium") {
        return;
    }
    let profile = dir.join("chromium-profile");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let run = |extra: &[String]| {
        let mut c = Command::new("chromium");
        c.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
            .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--virtual-time-budget=8000")
            .args(extra)
            .arg(format!("{base}/"));
        c.output().unwrap()
    };
    let dom = run(&["--dump-dom".to_owned()]);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(dom.contains("updated "), "the page fetched the API: {dom}");
    for ty in ["api_quota", "memory", "cpu", "database", "network", "k8s_pod"] {
        assert!(dom.contains(&format!("data-resource=\"{ty}\"")), "card for {ty}");
    }
    assert!(dom.contains("<svg class=\"chart\""), "usage charts drawn");
    assert!(dom.contains("main-db"), "health checks listed");
    assert!(
        dom.contains("openai-remote") && dom.contains("worker-e2e"),
        "the other process's breaker, with its owner"
    );
    assert!(dom.contains("replay: llm → http://bot:***@127.0.0.1:9/***"), "the replay handler, redacted");
    assert!(dom.contains("delivery failed"), "the queued request's last error");
    assert_no_secrets("the rendered dashboard", &dom);
    let out = run(&[format!("--screenshot={}", shot.display()), "--window-size=1280,900".to_owned()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot at {}", shot.display());
    println!("dashboard screenshot: {}", shot.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let mut server = start(dir.path());
    let base = server.base.clone();
    assert_eq!(get(&base, "/livez").await, (200, "ok".to_owned()));
    assert_eq!(get(&base, "/readyz").await.0, 200);
    let (code, health) = get(&base, "/health").await;
    assert!(code == 200 || code == 503, "{code}");
    assert!(health.contains("\"status\""));
    let metrics = scrape_once_probed(&base).await;
    assert!(metrics.contains("elf_resource_usage_ratio{resource=\"memory\"}"), "{metrics}");
    assert!(metrics.contains("elf_queue_requests{status=\"pending\"}"));
    check_metrics(&metrics);
    let (_, breakers) = get(&base, "/api/breakers").await;
    let breakers: serde_json::Value = serde_json::from_str(&breakers).unwrap();
    let remote = breakers.as_array().unwrap().iter().find(|b| b["name"] == "openai-remote");
    let remote = remote.unwrap_or_else(|| panic!("the other process's breaker is listed: {breakers}"));
    assert_eq!(
        (&remote["owner"]["id"], &remote["state"]),
        (&"worker-e2e".into(), &"open".into()),
        "{breakers}"
    );
    let handler = breakers.as_array().unwrap().iter().find(|b| b["name"] == "queue:llm");
    assert!(handler.is_some_and(|b| b["local"] == true), "the queue handler's breaker is listed: {breakers}");
    promtool(&metrics);
    for path in ["/", "/health", "/metrics", "/api/resources", "/api/health", "/api/breakers", "/api/queue"] {
        assert_no_secrets(path, &get(&base, path).await.1);
    }
    let unauthorized =
        reqwest::Client::new().post(format!("{base}/api/breakers/x/trip")).send().await.unwrap();
    assert_eq!(unauthorized.status().as_u16(), 401);
    chromium(&base, dir.path());

    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
    let mut log = String::new();
    server.child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("ledger flushed"), "shutdown flushed the ledger: {log}");
    assert!(log.contains("DEBUG"), "debug logging was on");
    assert_no_secrets("the server log", &log);
    assert!(dir.path().join("data/queue.db").exists() && dir.path().join("data/usage.db").exists());
}
