//! The quota tracker against the in-memory ledger, provider headers and classified errors,
//! all on a manual clock.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use elf_resilience_core::{Context, ManualClock};
use elf_resilience_monitor::{
    ApiQuotaProbe, InMemoryLedger, LlmErrorKind, Probe, ProbeError, QuotaConfigError, QuotaLimit,
    QuotaSource, QuotaTracker, QuotaWindow, RateLimitSnapshot, Usage,
};

fn tracker(clock: &ManualClock, limits: &[QuotaLimit]) -> QuotaTracker {
    let builder = QuotaTracker::builder(Arc::new(InMemoryLedger::new())).clock(clock.shared());
    limits.iter().cloned().fold(builder, |b, l| b.limit(l)).build().unwrap()
}

#[test]
fn usage_slides_out_of_the_minute_window() {
    let clock = ManualClock::new();
    let t = tracker(&clock, &[QuotaLimit::new(QuotaWindow::Minute).team("sales").tokens(1000)]);
    t.record("sales", "gpt-4", Usage::new(600, 1)).unwrap();
    clock.advance(Duration::from_secs(30));
    t.record("sales", "claude", Usage::new(300, 1)).unwrap();
    assert_eq!(t.usage_percent_for(Some("sales"), Some("gpt-4")), Some(90.0), "all the team's models count");
    clock.advance(Duration::from_secs(31));
    assert_eq!(t.usage_percent_for(Some("sales"), None), Some(30.0), "the first record left the window");
    assert_eq!(t.usage_percent_for(Some("eng"), Some("gpt-4")), None, "no limit covers another team");
}

#[test]
fn the_worst_window_wins() {
    let clock = ManualClock::new();
    let t = tracker(
        &clock,
        &[
            QuotaLimit::new(QuotaWindow::Minute).model("gpt-4").requests(10),
            QuotaLimit::new(QuotaWindow::Day).model("gpt-4").tokens(10_000),
        ],
    );
    for _ in 0..4 {
        t.record("a", "gpt-4", Usage::new(2000, 1)).unwrap();
        clock.advance(Duration::from_secs(120));
    }
    // Minute window: 0 of 10 requests; day window: 8000 of 10000 tokens.
    assert_eq!(t.usage_percent_for(Some("b"), Some("gpt-4")), Some(80.0));
    t.record("b", "gpt-4", Usage::new(0, 10)).unwrap();
    assert_eq!(t.usage_percent_for(None, Some("gpt-4")), Some(100.0));
}

#[test]
fn provider_headers_turn_the_quota_critical_before_the_429() {
    let clock = ManualClock::new();
    let t = tracker(&clock, &[]);
    assert_eq!(t.usage_percent_for(None, Some("gpt-4")), None);
    let headers = RateLimitSnapshot::from_headers(
        [
            ("x-ratelimit-limit-tokens", "40000"),
            ("x-ratelimit-remaining-tokens", "2000"),
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("x-ratelimit-limit-requests", "100"),
            ("x-ratelimit-remaining-requests", "90"),
            ("x-ratelimit-reset-requests", "20ms"),
        ],
        SystemTime::now(),
    );
    t.observe_headers("gpt-4", headers);
    assert_eq!(t.usage_percent_for(Some("x"), Some("gpt-4")), Some(95.0));
    clock.advance(Duration::from_secs(359));
    assert_eq!(t.usage_percent_for(None, Some("gpt-4")), Some(95.0));
    clock.advance(Duration::from_secs(1));
    assert_eq!(t.usage_percent_for(None, Some("gpt-4")), None, "both windows have reset");
}

#[test]
fn refusals_block_the_model_for_as_long_as_they_say() {
    let clock = ManualClock::new();
    let t = QuotaTracker::builder(Arc::new(InMemoryLedger::new()))
        .clock(clock.shared())
        .billing_cooldown(Duration::from_secs(600))
        .build()
        .unwrap();
    t.observe_error("claude", LlmErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
    t.observe_error("gpt-4", LlmErrorKind::QuotaExhausted);
    t.observe_error("mistral", LlmErrorKind::Overloaded);
    assert_eq!(t.usage_percent_for(None, Some("claude")), Some(100.0));
    assert_eq!(t.usage_percent_for(None, Some("mistral")), None, "overload is not a quota matter");
    clock.advance(Duration::from_secs(7));
    assert_eq!(t.usage_percent_for(None, Some("claude")), None);
    assert_eq!(t.usage_percent_for(None, Some("gpt-4")), Some(100.0));
    clock.advance(Duration::from_secs(593));
    assert_eq!(t.usage_percent_for(None, Some("gpt-4")), None);
}

#[test]
fn invalid_limits_are_rejected_at_build() {
    let ledger = Arc::new(InMemoryLedger::new());
    let err =
        QuotaTracker::builder(ledger.clone()).limit(QuotaLimit::new(QuotaWindow::Hour).team("t")).build();
    assert!(matches!(err, Err(QuotaConfigError::Empty { .. })));
    let err = QuotaTracker::builder(ledger).limit(QuotaLimit::new(QuotaWindow::Hour).tokens(0)).build();
    assert!(matches!(err, Err(QuotaConfigError::Zero { .. })));
}

#[test]
fn as_a_quota_source_it_records_and_totals() {
    let clock = ManualClock::new();
    let t = tracker(&clock, &[QuotaLimit::new(QuotaWindow::Hour).team("sales").model("gpt-4").tokens(1000)]);
    let ctx = Context::new().team("sales").model("gpt-4");
    QuotaSource::record(&t, 250.0, &ctx);
    QuotaSource::record(&t, f64::NAN, &ctx);
    QuotaSource::record(&t, 40.0, &Context::new());
    assert_eq!(QuotaSource::usage_percent(&t, &ctx), Some(25.0));
    let totals = QuotaSource::totals(&t, Duration::from_secs(3600));
    let got: Vec<_> = totals.iter().map(|u| (u.team.as_deref(), u.model.as_deref(), u.amount)).collect();
    assert_eq!(got, [(Some("sales"), Some("gpt-4"), 250.0), (Some("unknown"), Some("unknown"), 40.0)]);
}

#[tokio::test]
async fn the_api_quota_probe_reports_the_worst_figure() {
    let clock = ManualClock::new();
    let t = Arc::new(tracker(&clock, &[QuotaLimit::new(QuotaWindow::Minute).requests(4)]));
    let probe = ApiQuotaProbe::new(t.clone());
    assert_eq!(probe.sample().await.unwrap().usage_percent, 0.0);
    t.record("a", "m", Usage::new(0, 3)).unwrap();
    assert_eq!(probe.sample().await.unwrap().usage_percent, 75.0);
    let empty = ApiQuotaProbe::new(Arc::new(tracker(&clock, &[])));
    assert!(matches!(empty.sample().await, Err(ProbeError::Absent(_))));
}
