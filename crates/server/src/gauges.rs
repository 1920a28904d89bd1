//! Gauges refreshed before each `/metrics` scrape: resources, breakers, queue and health; and
//! the breakers other processes publish to the shared store, rendered per scrape so a process
//! that goes away leaves no gauge behind.

use std::fmt::Write as _;
use std::time::SystemTime;

use elf_resilience::{
    BreakerSnapshot, CircuitState, Context, HealthStatus, ResourceStatus, ResourceType, TicketStatus,
};

use crate::metric_help::help;
use crate::state::AppState;

/// Registers the help text of every metric and sets `elf_build_info` (call once, after
/// installing the recorder).
pub fn describe() {
    crate::metric_help::describe();
    metrics::gauge!("elf_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// Adds a `# HELP` line to every metric family that has none (its text from
/// [`metric_help`](crate::metric_help), else the name in words), so the exposition passes
/// `promtool check metrics` whatever part of the program recorded it.
pub fn with_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut helped = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("# HELP ").and_then(|r| r.split(' ').next()) {
            helped.insert(name.to_owned());
        }
        let typed = line.strip_prefix("# TYPE ").and_then(|r| r.split(' ').next());
        if let Some(name) = typed.filter(|n| helped.insert((*n).to_owned())) {
            let help = help(name).map_or_else(|| name.replace('_', " "), str::to_owned);
            out.push_str(&format!("# HELP {name} {help}\n"));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Sets every gauge from the current state.
pub fn update(state: &AppState) {
    for ty in ResourceType::ALL {
        let (status, usage) = state.resources.check_resource(ty, &Context::new());
        let ratio = (usage / 100.0).clamp(0.0, 1.0);
        metrics::gauge!("elf_resource_usage_ratio", "resource" => ty.as_str()).set(ratio);
        metrics::gauge!("elf_resource_status", "resource" => ty.as_str()).set(status_code(status));
    }
    for stats in state.breakers.stats() {
        let open = matches!(stats.state, CircuitState::Open | CircuitState::ForcedOpen);
        metrics::gauge!("elf_circuit_breaker_open", "name" => stats.name.clone())
            .set(f64::from(u8::from(open)));
        metrics::gauge!("elf_circuit_breaker_state", "name" => stats.name)
            .set(f64::from(stats.state.as_code()));
    }
    for st in [TicketStatus::Pending, TicketStatus::Leased, TicketStatus::DeadLettered] {
        let depth = state.queue.list(Some(st), usize::MAX).map_or(0, |v| v.len());
        metrics::gauge!("elf_queue_requests", "status" => st.as_str()).set(depth as f64);
    }
    let health = state.health.get_health_status(None);
    metrics::gauge!("elf_health_status").set(health_code(health));
}

const STATE: &str = "elf_circuit_breaker_state";
const OPEN: &str = "elf_circuit_breaker_open";
const AGE: &str = "elf_circuit_breaker_snapshot_age_seconds";

/// Adds the other processes' breakers to the exposition `text`: samples of
/// `elf_circuit_breaker_state` and `elf_circuit_breaker_open` labelled with `name` and `owner`
/// (inside those families, so each keeps one `# TYPE`), and the age of each snapshot.
pub fn with_remote_breakers(text: &str, remote: &[BreakerSnapshot], now: SystemTime) -> String {
    let mut states = Vec::new();
    let mut opens = Vec::new();
    let mut ages = Vec::new();
    for snap in remote {
        let Some(state) =
            CircuitState::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(&snap.state))
        else {
            continue;
        };
        let labels = format!("{{name=\"{}\",owner=\"{}\"}}", escape(&snap.name), escape(&snap.owner.id));
        let open = matches!(state, CircuitState::Open | CircuitState::ForcedOpen);
        states.push(format!("{STATE}{labels} {}", state.as_code()));
        opens.push(format!("{OPEN}{labels} {}", u8::from(open)));
        ages.push(format!("{AGE}{labels} {}", snap.age(now).as_secs_f64()));
    }
    let text = into_family(text, STATE, &states);
    let text = into_family(&text, OPEN, &opens);
    into_family(&text, AGE, &ages)
}

/// `text` with `samples` after the last sample of gauge `family`, or as a new family at the end.
fn into_family(text: &str, family: &str, samples: &[String]) -> String {
    if samples.is_empty() {
        return text.to_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    let is_sample =
        |l: &str| l.strip_prefix(family).is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '));
    let typed = lines
        .iter()
        .position(|l| l.strip_prefix("# TYPE ").and_then(|r| r.split(' ').next()) == Some(family));
    let mut out = String::with_capacity(text.len() + samples.len() * 96);
    let at = match typed {
        Some(t) => t + 1 + lines[t + 1..].iter().take_while(|l| is_sample(l)).count(),
        None => lines.len(),
    };
    for line in &lines[..at] {
        let _ = writeln!(out, "{line}");
    }
    if typed.is_none() {
        let help = help(family).unwrap_or(family);
        let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} gauge");
    }
    samples.iter().for_each(|s| {
        let _ = writeln!(out, "{s}");
    });
    for line in &lines[at..] {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// 0 healthy, 1 warning, 2 critical, 3 exhausted, -1 unknown.
fn status_code(s: ResourceStatus) -> f64 {
    match s {
        ResourceStatus::Healthy => 0.0,
        ResourceStatus::Warning => 1.0,
        ResourceStatus::Critical => 2.0,
        ResourceStatus::Exhausted => 3.0,
        _ => -1.0,
    }
}

/// 0 healthy, 1 degraded, 2 unhealthy, -1 unknown.
fn health_code(s: HealthStatus) -> f64 {
    match s {
        HealthStatus::Healthy => 0.0,
        HealthStatus::Degraded => 1.0,
        HealthStatus::Unhealthy => 2.0,
        _ => -1.0,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use elf_resilience::{BreakerSnapshot, Owner};

    fn snapshot(name: &str, owner: &str, state: &str, at: SystemTime) -> BreakerSnapshot {
        let stats = serde_json::json!({});
        BreakerSnapshot {
            name: name.into(),
            owner: Owner::named(owner),
            state: state.into(),
            stats,
            updated_at: at,
        }
    }

    #[test]
    fn remote_breakers_join_the_local_family() {
        let text = "# HELP elf_circuit_breaker_state s\n# TYPE elf_circuit_breaker_state gauge\n\
                    elf_circuit_breaker_state{name=\"mine\"} 0\n\n# TYPE elf_circuit_breaker_state_x gauge\n\
                    elf_circuit_breaker_state_x 1\n";
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let remote = [snapshot("openai", "w:7", "open", now - Duration::from_secs(4))];
        let out = super::with_remote_breakers(text, &remote, now);
        assert_eq!(out.matches("# TYPE elf_circuit_breaker_state gauge").count(), 1, "{out}");
        assert!(
            out.contains("{name=\"mine\"} 0\nelf_circuit_breaker_state{name=\"openai\",owner=\"w:7\"} 1\n\n"),
            "{out}"
        );
        assert!(out.contains("# TYPE elf_circuit_breaker_open gauge\nelf_circuit_breaker_open{name=\"openai\",owner=\"w:7\"} 1\n"));
        assert!(out.contains("elf_circuit_breaker_snapshot_age_seconds{name=\"openai\",owner=\"w:7\"} 4\n"));
        let tail = "elf_circuit_breaker_state_x 1\n# HELP elf_circuit_breaker_open ";
        assert!(out.contains(tail), "absent families go at the end: {out}");
    }

    #[test]
    fn label_values_are_escaped_and_unknown_states_skipped() {
        let now = SystemTime::UNIX_EPOCH;
        let remote = [snapshot("a\"b\\c", "h\n1", "half_open", now), snapshot("z", "h", "melted", now)];
        let out = super::with_remote_breakers("", &remote, now);
        assert!(out.contains("elf_circuit_breaker_state{name=\"a\\\"b\\\\c\",owner=\"h\\n1\"} 2\n"), "{out}");
        assert!(!out.contains("name=\"z\""), "{out}");
        assert_eq!(out.matches("# TYPE ").count(), 3, "{out}");
    }
    #[test]
    fn help_is_added_once() {
        let text = "# HELP a_total known\n# TYPE a_total counter\na_total 1\n# TYPE b gauge\nb 2\n";
        let out = super::with_help(text);
        assert_eq!(out.matches("# HELP a_total").count(), 1);
        assert!(out.contains("# HELP b b\n# TYPE b gauge\n"));
    }
}
