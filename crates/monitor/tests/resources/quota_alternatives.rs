//! A model's API quota comes from its own limits and its team's, never from another model's:
//! with one tracker as both the quota source and the whole-quota probe, an exhausted gpt-4
//! leaves its unlimited alternative usable, and SwitchProvider serves it.

use std::sync::Arc;

use elf_resilience_core::{
    Context, FallbackProtocol, FallbackRequest, FallbackStrategy, ManualClock, ResourceStatus, ResourceType,
};
use elf_resilience_monitor::{
    ApiQuotaProbe, InMemoryLedger, QuotaLimit, QuotaTracker, QuotaWindow, ResourceManager, Usage,
};

const API: ResourceType = ResourceType::ApiQuota;

/// gpt-4 limited to 1,000 tokens an hour for the team and fully spent; nothing else limited.
async fn exhausted_gpt4() -> (ResourceManager, Arc<QuotaTracker>) {
    let clock = ManualClock::new();
    let limit = QuotaLimit::new(QuotaWindow::Hour).team("marketing-team").model("gpt-4").tokens(1_000);
    let tracker = QuotaTracker::builder(Arc::new(InMemoryLedger::new()))
        .clock(clock.shared())
        .limit(limit)
        .build()
        .unwrap();
    let tracker = Arc::new(tracker);
    tracker.record("marketing-team", "gpt-4", Usage::new(1_000, 1)).unwrap();
    let rm = ResourceManager::builder()
        .clock(clock.shared())
        .quota_source(tracker.clone())
        .probe(ApiQuotaProbe::new(tracker.clone()))
        .model_alternatives("gpt-4", ["claude-3-opus"])
        .build()
        .unwrap();
    rm.refresh_all().await;
    (rm, tracker)
}

#[tokio::test]
async fn an_unlimited_alternative_reads_healthy_though_the_whole_quota_is_exhausted() {
    let (rm, _) = exhausted_gpt4().await;
    let team = Context::new().team("marketing-team");
    let gpt4 = team.clone().model("gpt-4");
    let claude = team.clone().model("claude-3-opus");
    assert_eq!(rm.check_resource(API, &gpt4), (ResourceStatus::Exhausted, 100.0));
    assert_eq!(rm.check_resource(API, &Context::new()).0, ResourceStatus::Exhausted, "the quota as a whole");

    let alt = rm.get_alternative_resource(API, &gpt4).expect("claude is suggested");
    assert_eq!(alt.model.as_deref(), Some("claude-3-opus"));
    assert_eq!((alt.status, alt.usage_percent), (ResourceStatus::Healthy, 0.0));
    assert_eq!(rm.check_resource(API, &claude), (alt.status, alt.usage_percent), "one answer for one model");
    let reading = rm.reading(API, &claude);
    assert_eq!(
        reading.reason.as_deref(),
        Some("no quota limit applies to team marketing-team, model claude-3-opus")
    );
}

#[tokio::test]
async fn a_team_wide_limit_still_applies_to_every_model_of_the_team() {
    let clock = ManualClock::new();
    let tracker = QuotaTracker::builder(Arc::new(InMemoryLedger::new()))
        .clock(clock.shared())
        .limit(QuotaLimit::new(QuotaWindow::Hour).team("sales").tokens(1_000))
        .limit(QuotaLimit::new(QuotaWindow::Hour).team("sales").model("gpt-4").tokens(100))
        .build()
        .unwrap();
    let tracker = Arc::new(tracker);
    tracker.record("sales", "gpt-4", Usage::new(100, 1)).unwrap();
    tracker.record("sales", "claude-3-opus", Usage::new(750, 1)).unwrap();
    let rm = ResourceManager::builder()
        .clock(clock.shared())
        .thresholds(API, 70.0, 90.0)
        .quota_source(tracker)
        .build()
        .unwrap();
    let sales = Context::new().team("sales");
    assert_eq!(rm.check_resource(API, &sales.clone().model("gpt-4")).0, ResourceStatus::Exhausted);
    let claude = rm.check_resource(API, &sales.clone().model("claude-3-opus"));
    assert_eq!(claude, (ResourceStatus::Warning, 85.0), "the team's 850 of 1,000 tokens, not gpt-4's limit");
    let other_team = rm.check_resource(API, &Context::new().team("support").model("gpt-4"));
    assert_eq!(other_team, (ResourceStatus::Healthy, 0.0), "another team's limits never apply");
}

#[tokio::test]
async fn switch_provider_serves_the_alternative_of_an_exhausted_model() {
    let (rm, _) = exhausted_gpt4().await;
    let protocol = FallbackProtocol::builder().gate(Arc::new(rm)).build().unwrap();
    let req = FallbackRequest::new(API)
        .context(Context::new().team("marketing-team").model("gpt-4"))
        .strategies([FallbackStrategy::SwitchProvider]);
    let outcome = protocol
        .execute_request_blocking(req, |a| Ok::<_, String>(format!("{} answered", a.model_or("?"))))
        .expect("the alternative serves");
    assert_eq!(outcome.value().map(String::as_str), Some("claude-3-opus answered"));
    assert_eq!(outcome.served().unwrap().provider.as_deref(), Some("claude-3-opus"));
}
