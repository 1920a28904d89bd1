//! The binary from the outside: every command, exit codes, and the malformed-config corpus.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_elf-resilience"));
    c.env_remove("ELF_RESILIENCE_CONFIG").env_remove("ELF_RESILIENCE_TOKEN").env_remove("RUST_LOG");
    c
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `path:line:col: message` → (line, col, message).
fn position<'a>(stderr: &'a str, path: &str) -> Option<(usize, usize, &'a str)> {
    let rest = stderr.split(path).nth(1)?.strip_prefix(':')?;
    let mut parts = rest.splitn(3, ':');
    let line = parts.next()?.parse().ok()?;
    let col = parts.next()?.parse().ok()?;
    Some((line, col, parts.next()?.trim()))
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_configs");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn every_malformed_config_exits_2_with_file_line_col() {
    let files = corpus();
    assert!(files.len() >= 60, "the corpus has {} files", files.len());
    let work = tempfile::tempdir().unwrap();
    for file in files {
        let shown = file.display().to_string();
        for args in [vec!["config", "check", shown.as_str()], vec!["--config", shown.as_str(), "status"]] {
            let out = run_in(work.path(), &args);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{shown} {args:?}: exit {:?}, stderr {err}", out.status);
            let (line, col, message) =
                position(&err, &shown).unwrap_or_else(|| panic!("{shown}: no file:line:col in {err:?}"));
            let lines = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).lines().count();
            assert!(line >= 1 && line <= lines.max(1) + 1 && col >= 1, "{shown}: bad position {line}:{col}");
            assert!(message.len() > 10, "{shown}: message too short: {message}");
            assert!(out.stdout.is_empty(), "{shown}: printed to stdout");
        }
    }
    let written: Vec<_> = std::fs::read_dir(work.path()).unwrap().collect();
    assert!(written.is_empty(), "a rejected config must leave nothing behind: {written:?}");
}

#[test]
fn errors_say_what_was_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_configs");
    let cases = [
        ("07_threshold_warning_above_critical.toml", 2, "expected warning below critical"),
        ("10_duration_without_unit.toml", 2, "expected a positive duration"),
        ("04_bind_not_address.toml", 2, "expected an address"),
        ("16_endpoint_tcp_without_port.toml", 3, "expected \"host:port\""),
        ("08_threshold_unknown_type.toml", 2, "unknown field `gpu`"),
        ("31_queue_handler_bad_url.toml", 3, "expected a URL with scheme http or https"),
        ("32_queue_unknown_key.toml", 3, "unknown field `workers`"),
        ("33_queue_handler_unknown_resource.toml", 4, "expected a resource type"),
        ("34_queue_duplicate_handler.toml", 2, "expected unique queue handler names"),
        ("36_queue_lease_shorter_than_timeout.toml", 2, "longer than queue handler `llm`'s timeout"),
        ("37_health_interval_1ms.toml", 2, "at least 100ms"),
        ("38_breakers_stale_after_drop.toml", 3, "expected stale_after"),
        ("39_data_dir_empty.toml", 2, "expected a non-empty data_dir"),
        ("40_queue_handler_port_out_of_range.toml", 3, "expected a port from 1 to 65535"),
        ("41_queue_handler_only_userinfo.toml", 3, "expected a host"),
        ("42_endpoint_url_with_space.toml", 3, "without spaces"),
        ("43_quota_zero_tokens.toml", 3, "expected a limit above 0"),
        ("44_token_too_short.toml", 3, "expected a token of at least 16 characters, found 3"),
        ("45_public_bind_without_token.toml", 2, "expected a `token` for a server on a public address"),
        ("46_token_empty.toml", 2, "at least 16 characters"),
        ("47_database_garbage_postgres_url.toml", 3, "invalid PostgreSQL connection string"),
        ("48_data_dir_is_a_file.toml", 2, "expected data_dir to be a directory"),
        ("51_allowed_host_with_scheme.toml", 2, "expected a host name like"),
        ("52_alternative_is_itself.toml", 2, "other than the model itself"),
        ("53_quota_team_empty.toml", 3, "expected a team name"),
        ("56_probe_timeout_over_interval.toml", 3, "shorter than its interval (15s)"),
        ("61_cache_max_entries_zero.toml", 2, "at least 1"),
        ("62_breakers_publish_1ms.toml", 2, "publish_interval of at least 10ms"),
        ("63_token_with_spaces.toml", 2, "without leading or trailing whitespace"),
        ("67_public_ipv6_without_token.toml", 2, "expected a `token`"),
        ("69_queue_max_retry_in_below_retry_in.toml", 3, "max_retry_in (30s) at least retry_in (60s)"),
        ("70_queue_breaker_threshold_zero.toml", 2, "nonzero"),
    ];
    for (name, want_line, want) in cases {
        let path = dir.join(name).display().to_string();
        let out = run_in(Path::new("."), &["config", "check", &path]);
        let err = text(&out.stderr);
        let (line, _, message) = position(&err, &path).unwrap();
        assert_eq!(line, want_line, "{name}: {err}");
        assert!(message.contains(want), "{name}: {message}");
    }
}

#[test]
fn a_missing_config_file_exits_2() {
    let out = run_in(Path::new("."), &["--config", "/nonexistent/elf.toml", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/elf.toml:1:1: cannot read config"));
}

#[test]
fn the_default_config_prints_and_checks() {
    let work = tempfile::tempdir().unwrap();
    let out = run_in(work.path(), &["config", "default"]);
    assert!(out.status.success());
    let toml = text(&out.stdout);
    assert!(toml.contains("bind = \"127.0.0.1:8686\""));
    std::fs::write(work.path().join("elf-resilience.toml"), &toml).unwrap();
    let out = run_in(work.path(), &["config", "check"]);
    assert_eq!(text(&out.stdout).trim(), "elf-resilience.toml: ok");
    let env = bin()
        .current_dir(work.path())
        .env("ELF_RESILIENCE_CONFIG", "elf-resilience.toml")
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(env.status.success());
    let none = run_in(tempfile::tempdir().unwrap().path(), &["config", "check"]);
    assert!(text(&none.stdout).contains("built-in defaults"));
}

#[test]
fn status_prints_the_seed_report_and_json() {
    let work = tempfile::tempdir().unwrap();
    let out = run_in(work.path(), &["status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.starts_with("Resource Status Report\n=================================================="));
    for ty in ["api_quota", "memory", "cpu", "database", "mcp_server", "network", "docker", "k8s_pod"] {
        assert!(s.lines().any(|l| l.contains(ty) && (l.starts_with('✅') || l.starts_with('⚠') || l.starts_with('❌'))), "{ty} in {s}");
    }
    assert!(s.contains("CPU: ") && s.contains(" cores") && s.contains("Memory: ") && s.contains("% used"));
    let out = run_in(work.path(), &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["resources"].as_array().unwrap().len(), 8);
    assert!(v["system"]["cpu_count"].as_u64().unwrap() >= 1);
    assert!(work.path().join(".elf-resilience/usage.db").exists(), "default data dir");
}

#[test]
fn health_exit_codes_follow_the_checks() {
    let work = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // dropped: closed
    let config = |target: &str, critical: bool| {
        format!(
            "[health]\ndefault_checks = false\n[[health.checks]]\nname = \"svc\"\nkind = \"tcp\"\ntarget = \"{target}\"\ncritical = {critical}\n"
        )
    };
    let cases = [(open.to_string(), true, 0), (closed.to_string(), true, 2), (closed.to_string(), false, 1)];
    for (target, critical, code) in cases {
        std::fs::write(work.path().join("elf-resilience.toml"), config(&target, critical)).unwrap();
        let out = run_in(work.path(), &["health"]);
        assert_eq!(out.status.code(), Some(code), "{target} critical={critical}: {}", text(&out.stdout));
        let out = run_in(work.path(), &["health", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["checks"]["svc"]["message"].as_str().unwrap().contains(&target));
    }
    assert!(!work.path().join(".elf-resilience").exists(), "health writes no state (a read-only filesystem)");
    drop(listener);
}

#[test]
fn report_reads_the_ledger() {
    use elf_resilience::{SqliteLedger, SystemClock, Usage, UsageLedger};
    let work = tempfile::tempdir().unwrap();
    let ledger = SqliteLedger::open(
        work.path().join(".elf-resilience/usage.db"),
        SystemClock::shared(),
        std::time::Duration::from_secs(86400),
    )
    .unwrap();
    let now = std::time::SystemTime::now();
    ledger.record("marketing-team", "gpt-4", Usage::new(1200, 2), now).unwrap();
    ledger.record("marketing-team", "gpt-4", Usage::new(300, 1), now).unwrap();
    ledger.close().unwrap();
    let out = run_in(work.path(), &["report", "--hours", "2", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["usage"][0]["team"], "marketing-team");
    assert_eq!(v["usage"][0]["tokens"], 1500);
    assert_eq!(v["usage"][0]["requests"], 3);
    assert_eq!(v["usage"][0]["peak_hour_tokens"], 1500);
    let out = run_in(work.path(), &["report", "--hours", "2"]);
    assert!(text(&out.stdout).lines().any(|l| l.starts_with("marketing-team") && l.contains("1500")));
}

#[test]
fn queue_list_replay_purge() {
    use elf_resilience::{EnqueueRequest, RequestQueue, SqliteQueue};
    let work = tempfile::tempdir().unwrap();
    let q = SqliteQueue::open(work.path().join(".elf-resilience/queue.db")).unwrap();
    let now = std::time::SystemTime::now();
    let dead =
        q.enqueue(EnqueueRequest::new("llm", serde_json::json!({"p": 1})).max_attempts(1), now).unwrap();
    q.lease(None, now, std::time::Duration::from_secs(5)).unwrap();
    q.nack(&dead, "provider down", now, std::time::Duration::ZERO).unwrap();
    q.enqueue(EnqueueRequest::new("llm", serde_json::json!({"p": 2})), now).unwrap();
    let out = run_in(work.path(), &["queue", "list"]);
    let s = text(&out.stdout);
    assert!(s.contains("dead_lettered") && s.contains("provider down") && s.contains("pending"), "{s}");
    let out = run_in(work.path(), &["queue", "replay"]);
    assert_eq!(text(&out.stdout).trim(), "1 request(s) ready for delivery");
    assert_eq!(q.list(Some(elf_resilience::TicketStatus::Pending), 10).unwrap().len(), 2);
    let out = run_in(work.path(), &["queue", "purge", "--all"]);
    assert_eq!(text(&out.stdout).trim(), "purged 2 request(s)");
    let out = run_in(work.path(), &["queue", "list", "--json"]);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!([]));
}

#[test]
fn queue_drop_and_requeue_one_ticket() {
    use elf_resilience::{EnqueueRequest, RequestQueue, SqliteQueue, TicketStatus};
    let work = tempfile::tempdir().unwrap();
    let q = SqliteQueue::open(work.path().join(".elf-resilience/queue.db")).unwrap();
    let now = std::time::SystemTime::now();
    let dead =
        q.enqueue(EnqueueRequest::new("llm", serde_json::json!({"p": 1})).max_attempts(1), now).unwrap();
    q.lease(None, now, std::time::Duration::from_secs(5)).unwrap();
    q.nack(&dead, "provider down", now, std::time::Duration::ZERO).unwrap();
    let unwanted = q.enqueue(EnqueueRequest::new("llm", serde_json::json!({"p": 2})), now).unwrap();

    let out = run_in(work.path(), &["queue", "requeue", &dead.0]);
    assert_eq!(text(&out.stdout).trim(), format!("{dead} is ready for delivery"), "{}", text(&out.stderr));
    let again = q.get(&dead).unwrap().unwrap();
    assert_eq!((again.status, again.attempts), (TicketStatus::Pending, 0));
    let out = run_in(work.path(), &["queue", "drop", &unwanted.0]);
    assert_eq!(text(&out.stdout).trim(), format!("dropped {unwanted}"));
    assert_eq!(q.get(&unwanted).unwrap(), None);
    let out = run_in(work.path(), &["queue", "drop", &unwanted.0]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&format!("no request with ticket {unwanted}")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_public_bind_needs_a_token_or_allow_public() {
    let work = tempfile::tempdir().unwrap();
    let out = run_in(work.path(), &["serve", "--bind", "0.0.0.0:0"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("is a public address"), "{}", text(&out.stderr));
    assert!(std::fs::read_dir(work.path()).unwrap().next().is_none(), "nothing written");
    let allowed = "[server]\nbind = \"0.0.0.0:8686\"\nallow_public = true\n";
    std::fs::write(work.path().join("public.toml"), allowed).unwrap();
    let out = run_in(work.path(), &["config", "check", "public.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// A port another process holds: `serve` exits 1 naming the address and what to do, before it
/// opens a store or writes the token, so a fresh data directory stays empty.
#[test]
fn serve_on_a_taken_port_fails_clearly_and_writes_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("data")).unwrap();
    std::fs::write(work.path().join("elf-resilience.toml"), "[storage]\ndata_dir = \"data\"\n").unwrap();
    let out = run_in(work.path(), &["serve", "--bind", &addr]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("error: cannot listen on {addr}")), "{err}");
    assert!(err.contains("choose another port with --bind"), "{err}");
    assert_eq!(entries(&work.path().join("data")), Vec::<String>::new(), "the data directory stays empty");
    assert_eq!(entries(work.path()), ["data", "elf-resilience.toml"]);
}

#[test]
fn breakers_without_a_server_fail_clearly() {
    let work = tempfile::tempdir().unwrap();
    let out = run_in(work.path(), &["breakers", "--server", "http://127.0.0.1:9", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no server answering at http://127.0.0.1:9"));
}

#[test]
fn the_demo_runs_with_no_config_and_uses_the_chain() {
    let work = tempfile::tempdir().unwrap();
    let out = run_in(work.path(), &["demo", "--requests", "40", "--seed", "7"]);
    let s = text(&out.stdout);
    assert!(out.status.success(), "{s}{}", text(&out.stderr));
    assert!(s.starts_with("flaky LLM provider on http://127.0.0.1:"), "{s}");
    assert_eq!(s.lines().filter(|l| l.starts_with('#')).count(), 40, "one line per request: {s}");
    assert!(s.contains("40 requests in "), "{s}");
    let strategies = ["first try", "switch_provider", "degrade_service", "use_cache", "queue_request"];
    let used =
        strategies.iter().filter(|st| s.lines().any(|l| l.starts_with("  ") && l.contains(*st))).count();
    assert!(used >= 3, "several strategies served requests: {s}");
    assert!(s.contains("queue replay: "), "{s}");
    assert!(work.path().join(".elf-resilience/queue.db").exists());
    let report = run_in(work.path(), &["report", "--hours", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert!(!v["usage"].as_array().unwrap().is_empty(), "demo usage reached the ledger: {v}");
}

/// While the demo runs with `--serve`, the dashboard's resources are live readings of the
/// demo's own resource manager (its samplers run), and the demo's breakers are listed.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_dashboard_shows_live_resources() {
    use std::io::{BufRead, BufReader};
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("elf-resilience.toml"), "[server]\nbind = \"127.0.0.1:0\"\n").unwrap();
    let mut child = bin()
        .current_dir(work.path())
        .args(["demo", "--serve", "--requests", "8", "--seed", "3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let dashboard = lines.find_map(|l| l.strip_prefix("dashboard: ").map(str::to_owned)).unwrap();
    assert!(lines.any(|l| l.starts_with("dashboard stays up")), "the demo finished");
    let resources: serde_json::Value =
        reqwest::get(format!("{dashboard}api/resources")).await.unwrap().json().await.unwrap();
    let memory = resources["report"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_type"] == "memory")
        .unwrap()
        .clone();
    let host = memory["probes"].as_array().unwrap().iter().find(|p| p["name"] == "host").unwrap();
    assert!(host["sampled_at_unix"].as_f64().is_some(), "the host probe sampled during the demo: {memory}");
    assert!(host["usage_percent"].as_f64().unwrap() > 0.0, "{memory}");
    let breakers: serde_json::Value =
        reqwest::get(format!("{dashboard}api/breakers")).await.unwrap().json().await.unwrap();
    assert!(breakers.as_array().unwrap().iter().any(|b| b["name"] == "gpt-4"), "{breakers}");
    let metrics = reqwest::get(format!("{dashboard}metrics")).await.unwrap().text().await.unwrap();
    for family in ["elf_circuit_breaker_failure_rate", "elf_circuit_breaker_slow_call_rate"] {
        let line = metrics.lines().find(|l| l.starts_with(&format!("{family}{{name=\"gpt-4\"}} ")));
        let value: f64 = line
            .unwrap_or_else(|| panic!("{family}: {metrics}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=1.0).contains(&value), "{family} {value}");
    }
    let durations = "elf_circuit_breaker_call_duration_seconds";
    assert!(metrics.contains(&format!("# TYPE {durations} histogram")), "{metrics}");
    assert!(metrics.contains(&format!("{durations}_bucket{{name=\"gpt-4\",le=\"0.005\"}}")), "{metrics}");
    assert!(metrics.contains(&format!("{durations}_count{{name=\"gpt-4\"}}")), "{metrics}");
    assert!(!metrics.contains("to=\"OPEN\"") && !metrics.contains("to=\"CLOSED\""), "{metrics}");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    assert!(child.wait().unwrap().success(), "Ctrl-C stops the demo's dashboard cleanly");
}

#[test]
fn configured_probes_appear_in_status() {
    let work = tempfile::tempdir().unwrap();
    let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = format!(
        "[[probes.endpoints]]\nname = \"cache\"\ntcp = \"{}\"\n\
         [[probes.mcp_servers]]\nname = \"files\"\nurl = \"http://127.0.0.1:9/mcp\"\ntimeout = \"2s\"\n\
         [[probes.databases]]\nname = \"local\"\nurl = \"sqlite://{}\"\n",
        open.local_addr().unwrap(),
        work.path().join("app.db").display()
    );
    std::fs::write(work.path().join("elf-resilience.toml"), config).unwrap();
    let out = run_in(work.path(), &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |ty: &str| {
        v["resources"].as_array().unwrap().iter().find(|r| r["resource_type"] == ty).unwrap().clone()
    };
    let network = find("network");
    let name = |r: &serde_json::Value| r["probes"][0]["name"].as_str().unwrap_or("").to_owned();
    assert!(name(&network).ends_with("cache"), "{network}");
    assert_ne!(network["status"], "unknown", "the endpoint answers: {network}");
    assert!(name(&find("mcp_server")).ends_with("files"));
    assert_ne!(find("mcp_server")["status"], "healthy", "nothing listens on port 9");
    assert!(name(&find("database")).ends_with("local"));
}

#[test]
fn a_redis_url_needs_the_redis_feature() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("r.toml");
    std::fs::write(&file, "[storage]\n# redis_url = \"redis://old\"\nredis_url = \"redis://127.0.0.1:1\"\n")
        .unwrap();
    let shown = file.display().to_string();
    let out = run_in(work.path(), &["config", "check", &shown]);
    let err = text(&out.stderr);
    if cfg!(feature = "redis") {
        assert!(out.status.success(), "checking does not connect: {err}");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(position(&err, &shown).map(|(l, c, _)| (l, c)), Some((3, 1)), "{err}");
    assert!(err.contains("built without the redis feature"), "{err}");
}

fn tcp_check_config(target: &str, critical: bool) -> String {
    format!(
        "[health]\ndefault_checks = false\n[[health.checks]]\nname = \"svc\"\nkind = \"tcp\"\ntarget = \"{target}\"\ncritical = {critical}\n"
    )
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `health` as a Kubernetes exec probe on a read-only root filesystem: nothing to write, so
/// nothing written (checked by listing, since root ignores the permission bits).
#[test]
fn health_runs_in_a_read_only_directory_and_creates_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let configured = tempfile::tempdir().unwrap();
    let config = tcp_check_config(&listener.local_addr().unwrap().to_string(), true);
    std::fs::write(configured.path().join("elf-resilience.toml"), config).unwrap();
    let defaults = tempfile::tempdir().unwrap(); // no config: the built-in checks
    for dir in [configured.path(), defaults.path()] {
        let before = entries(dir);
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let outs = [run_in(dir, &["health"]), run_in(dir, &["health", "--json", "--fail-on", "unhealthy"])];
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        for out in &outs {
            let code = out.status.code();
            assert!(matches!(code, Some(0..=2)), "{code:?}: {}", text(&out.stderr));
            if dir == configured.path() {
                assert_eq!(code, Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
            }
        }
        assert_eq!(entries(dir), before, "health created files in {}", dir.display());
    }
}

#[test]
fn health_fail_on_unhealthy_passes_a_degraded_service() {
    let work = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    // (critical, default exit, --fail-on degraded, --fail-on unhealthy)
    for (critical, default, degraded, unhealthy) in [(false, 1, 1, 0), (true, 2, 2, 2)] {
        std::fs::write(work.path().join("elf-resilience.toml"), tcp_check_config(&closed, critical)).unwrap();
        let code = |args: &[&str]| run_in(work.path(), args).status.code();
        assert_eq!(code(&["health"]), Some(default), "critical={critical}");
        assert_eq!(code(&["health", "--fail-on", "degraded"]), Some(degraded), "critical={critical}");
        assert_eq!(code(&["health", "--fail-on", "unhealthy"]), Some(unhealthy), "critical={critical}");
    }
    let bad = run_in(work.path(), &["health", "--fail-on", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2), "a bad option value is a usage error");
}

/// A check that hangs is cut at 1 s (a Kubernetes probe's default `timeoutSeconds`), unless it
/// sets its own timeout.
#[test]
fn health_checks_time_out_after_one_second_by_default() {
    let work = tempfile::tempdir().unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap(); // accepts, never answers
    let config = format!(
        "[health]\ndefault_checks = false\n[[health.checks]]\nname = \"api\"\nkind = \"http\"\ntarget = \"http://{}/health\"\n",
        silent.local_addr().unwrap()
    );
    std::fs::write(work.path().join("elf-resilience.toml"), config).unwrap();
    let out = run_in(work.path(), &["health", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checks"]["api"]["message"], "timed out after 1s", "{v}");
    assert_eq!(out.status.code(), Some(2));
}

/// A config whose probes log (an endpoint that refuses connections), run with debug logging.
fn logging_run(extra: &[&str]) -> Output {
    let work = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = format!("[[probes.endpoints]]\nname = \"gone\"\ntcp = \"{closed}\"\n");
    std::fs::write(work.path().join("elf-resilience.toml"), config).unwrap();
    let out =
        bin().current_dir(work.path()).env("RUST_LOG", "debug").args(extra).arg("status").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    out
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let err = text(&logging_run(&[]).stderr);
    assert!(err.lines().count() >= 2, "debug logging logged: {err}");
    assert!(!err.contains("\x1b["), "ANSI escapes on a pipe: {err:?}");
    let explicit = text(&logging_run(&["--log-format", "text"]).stderr);
    assert!(!explicit.contains("\x1b[") && explicit.contains("DEBUG"), "{explicit:?}");
}

#[test]
fn log_format_json_prints_one_object_a_line() {
    let err = text(&logging_run(&["--log-format", "json"]).stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "debug logging logged: {err}");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
    assert!(err.contains("\"message\":\"endpoint down\""), "{err}");
}

/// Reads the status JSON's entry for `ty`.
fn resource(v: &serde_json::Value, ty: &str) -> serde_json::Value {
    v["resources"].as_array().unwrap().iter().find(|r| r["resource_type"] == ty).unwrap().clone()
}

/// An HTTP server on loopback, on a thread until the test ends, that reads each request and
/// answers `500` (`hang_up`: closes the connection without answering).
fn failing_http_server(hang_up: bool) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf);
            if !hang_up {
                let _ = socket.write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        }
    });
    addr
}

#[test]
fn status_text_says_why_a_resource_is_critical() {
    let work = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = format!("[[probes.databases]]\nname = \"main\"\nurl = \"postgres://app:pw@{closed}/app\"\n");
    std::fs::write(work.path().join("elf-resilience.toml"), config).unwrap();
    let out = run_in(work.path(), &["status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let line = s.lines().find(|l| l.contains("database")).unwrap();
    assert!(line.contains("critical") && line.contains("refused"), "{line}");
}

#[test]
fn configured_timeouts_apply_and_a_silent_server_reads_critical() {
    let work = tempfile::tempdir().unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = format!(
        "[[probes.mcp_servers]]\nname = \"hung\"\ncommand = [\"sh\", \"-c\", \"exec sleep 30\"]\ntimeout = \"200ms\"\n\
         [[probes.databases]]\nname = \"stuck\"\nurl = \"postgres://app@{}/app\"\ntimeout = \"200ms\"\n",
        silent.local_addr().unwrap()
    );
    std::fs::write(work.path().join("elf-resilience.toml"), config).unwrap();
    let start = std::time::Instant::now();
    let out = run_in(work.path(), &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(start.elapsed() < std::time::Duration::from_secs(4), "the 200 ms timeouts apply, not 5 s");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for ty in ["mcp_server", "database"] {
        let r = resource(&v, ty);
        assert_eq!(r["status"], "critical", "{r}");
        let detail = r["probes"][0]["detail"].as_str().unwrap_or("");
        assert!(detail.contains("timed out after 200 ms"), "{r}");
    }
    drop(silent);
}

#[test]
fn mcp_url_secrets_stay_out_of_status_and_logs() {
    let work = tempfile::tempdir().unwrap();
    let (addr, gone) = (failing_http_server(false), failing_http_server(true));
    let config = format!(
        "[[probes.mcp_servers]]\nname = \"search\"\nurl = \"http://user:pass@{addr}/mcp?api_key=SECRET\"\ntimeout = \"2s\"\n\
         [[probes.mcp_servers]]\nname = \"gone\"\nurl = \"http://user:pass@{gone}/mcp?api_key=SECRET\"\ntimeout = \"2s\"\n"
    );
    std::fs::write(work.path().join("elf-resilience.toml"), config).unwrap();
    for args in [&["status", "--json"][..], &["status"][..]] {
        let out = bin().current_dir(work.path()).env("RUST_LOG", "debug").args(args).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(stdout.contains("mcp:search") && stdout.contains("mcp:gone"), "{stdout}");
        assert!(stderr.contains(&gone.port().to_string()), "the probe's errors are logged: {stderr}");
        for shown in [&stdout, &stderr] {
            assert!(!shown.contains("SECRET") && !shown.contains("pass"), "{args:?}: {shown}");
        }
    }
}

#[test]
fn queue_list_pages_by_status_limit_and_after() {
    use elf_resilience::{EnqueueRequest, RequestQueue, SqliteQueue};
    let work = tempfile::tempdir().unwrap();
    let q = SqliteQueue::open(work.path().join(".elf-resilience/queue.db")).unwrap();
    let now = std::time::SystemTime::now();
    let tickets: Vec<String> = (0..4)
        .map(|n| q.enqueue(EnqueueRequest::new("llm", serde_json::json!({"p": n})), now).unwrap().0)
        .collect();
    q.lease(None, now, std::time::Duration::from_secs(600)).unwrap();
    let listed = |args: &[&str]| -> Vec<String> {
        let out = run_in(work.path(), &[&["queue", "list", "--json"], args].concat());
        assert!(out.status.success(), "{}", text(&out.stderr));
        let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        items.as_array().unwrap().iter().map(|r| r["ticket"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(listed(&["--limit", "2"]), tickets[..2]);
    assert_eq!(listed(&["--limit", "2", "--after", &tickets[1]]), tickets[2..]);
    assert_eq!(listed(&["--status", "pending", "--limit", "2"]), tickets[1..3]);
    assert_eq!(listed(&["--status", "leased"]), tickets[..1]);
    let out = run_in(work.path(), &["queue", "list", "--limit", "3"]);
    assert!(text(&out.stdout).contains(&format!("--after {}", tickets[2])), "{}", text(&out.stdout));
    let bad = run_in(work.path(), &["queue", "list", "--status", "finished"]);
    assert!(!bad.status.success() && text(&bad.stderr).contains("unknown status `finished`"));
    let bad = run_in(work.path(), &["queue", "list", "--after", "nope"]);
    assert!(
        !bad.status.success() && text(&bad.stderr).contains("unknown ticket `nope`"),
        "{}",
        text(&bad.stderr)
    );
    let bad = run_in(work.path(), &["queue", "list", "--limit", "0"]);
    assert!(!bad.status.success(), "a zero limit is refused");
}
