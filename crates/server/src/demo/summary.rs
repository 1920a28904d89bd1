//! Counting how each demo request was served.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use elf_resilience::{FallbackError, FallbackStrategy, Outcome};

use super::client::CallError;

/// How one request ended, for the live log and the summary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Served {
    /// The first call answered.
    FirstTry,
    /// A fallback strategy answered (or queued).
    By(String),
    /// Nothing served it.
    Failed(String),
}

impl Served {
    /// Classifies an outcome.
    pub fn of(result: &Result<Outcome<String>, FallbackError<CallError>>) -> Self {
        match result {
            Ok(Outcome::Queued { .. }) => Self::By(FallbackStrategy::QueueRequest.to_string()),
            Ok(o) => o.served_by().map_or(Self::FirstTry, |s| Self::By(s.to_string())),
            Err(e) => Self::Failed(short(&e.to_string())),
        }
    }

    /// The label shown.
    pub fn label(&self) -> String {
        match self {
            Self::FirstTry => "first try".into(),
            Self::By(s) => s.clone(),
            Self::Failed(_) => "failed".into(),
        }
    }
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

/// The tally of a run.
#[derive(Debug, Default)]
pub struct Summary {
    counts: BTreeMap<String, usize>,
    total: usize,
    elapsed: Duration,
}

impl Summary {
    /// Adds one request.
    pub fn add(&mut self, served: &Served) {
        *self.counts.entry(served.label()).or_default() += 1;
        self.total += 1;
    }

    /// How many requests ended with `label`.
    pub fn count(&self, label: &str) -> usize {
        self.counts.get(label).copied().unwrap_or(0)
    }

    /// Sets the wall time of the run.
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
    }

    /// The summary table.
    pub fn render(&self) -> String {
        let mut out =
            format!("\n{} requests in {:.1} s, served by:\n", self.total, self.elapsed.as_secs_f64());
        for (label, n) in &self.counts {
            let pct = *n as f64 * 100.0 / self.total.max(1) as f64;
            let _ =
                writeln!(out, "  {label:18} {n:4}  {pct:5.1}%  {}", "█".repeat((pct / 4.0).ceil() as usize));
        }
        out
    }
}
