//! `report --hours N`: usage per team and model from the ledger, with the busiest hour.

use std::time::{Duration, SystemTime};

use elf_resilience::{Rollup, TimeRange, UsageFilter, UsageLedger};
use serde::Serialize;

use crate::config::Config;
use crate::stores::open_ledger;

/// One line of the report.
#[derive(Debug, Serialize)]
pub struct Line {
    team: String,
    model: String,
    tokens: u64,
    requests: u64,
    peak_hour_tokens: u64,
    peak_hour_start_unix: Option<u64>,
}

/// Prints usage over the last `hours` hours.
pub fn run(config: &Config, hours: u32, json: bool) -> anyhow::Result<()> {
    let ledger = open_ledger(config)?;
    let now = SystemTime::now();
    let range = TimeRange::last(Duration::from_secs(u64::from(hours) * 3600), now + Duration::from_secs(1));
    let lines = lines(ledger.as_ref(), range)?;
    if json {
        let body = serde_json::json!({ "hours": hours, "usage": lines });
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        print!("{}", render(hours, &lines));
    }
    Ok(())
}

/// Totals per (team, model) with their peak hour.
pub fn lines(ledger: &dyn UsageLedger, range: TimeRange) -> anyhow::Result<Vec<Line>> {
    ledger.flush()?;
    let mut out = Vec::new();
    for t in ledger.totals(range)? {
        let hours = ledger.rollup(UsageFilter::exact(&t.team, &t.model), range, Rollup::Hour)?;
        let peak = hours.iter().max_by_key(|b| b.usage.tokens);
        out.push(Line {
            peak_hour_tokens: peak.map_or(0, |b| b.usage.tokens),
            peak_hour_start_unix: peak
                .and_then(|b| b.start.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
            team: t.team,
            model: t.model,
            tokens: t.usage.tokens,
            requests: t.usage.requests,
        });
    }
    Ok(out)
}

fn render(hours: u32, lines: &[Line]) -> String {
    let mut out = format!("Usage over the last {hours} h\n");
    out.push_str(&format!(
        "{:20} {:20} {:>12} {:>9} {:>16}\n",
        "team", "model", "tokens", "requests", "peak hour tokens"
    ));
    for l in lines {
        out.push_str(&format!(
            "{:20} {:20} {:>12} {:>9} {:>16}\n",
            l.team, l.model, l.tokens, l.requests, l.peak_hour_tokens
        ));
    }
    if lines.is_empty() {
        out.push_str("(no usage recorded)\n");
    }
    out
}
