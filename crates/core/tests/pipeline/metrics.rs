//! What a pipeline's fallback layer counts in `elf_fallback_served_total`, seen through a local
//! debugging recorder: one count per answer, labelled with the resource and who served it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{
    Context, FallbackProtocol, FallbackStrategy, Pipeline, ResourceStatus, ResourceType, StaticGate,
    TokioClock,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// The `elf_fallback_served_total` counts since the last snapshot, by (resource, by) labels.
fn served(snapshotter: &Snapshotter) -> BTreeMap<(String, String), u64> {
    let mut counts = BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        if key.key().name() != "elf_fallback_served_total" {
            continue;
        }
        let label = |name: &str| {
            let found = key.key().labels().find(|l| l.key() == name);
            found.map(|l| l.value().to_owned()).unwrap_or_else(|| panic!("no {name} label"))
        };
        assert_eq!(key.key().labels().count(), 2, "resource and by, nothing else");
        let DebugValue::Counter(n) = value else { panic!("elf_fallback_served_total is not a counter") };
        *counts.entry((label("resource"), label("by"))).or_default() += n;
    }
    counts
}

fn entry(resource: &str, by: &str, n: u64) -> ((String, String), u64) {
    ((resource.to_owned(), by.to_owned()), n)
}

/// Runs `body` on a current-thread runtime with `recorder` installed on this thread.
fn recorded(recorder: &DebuggingRecorder, body: impl std::future::Future<Output = ()>) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    metrics::with_local_recorder(recorder, || rt.block_on(body));
}

#[test]
fn primary_answers_are_counted_by_primary_for_their_resource() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let api = Pipeline::builder().fallback(FallbackProtocol::default(), ResourceType::ApiQuota).build();
    let db = Pipeline::builder()
        .fallback(FallbackProtocol::default(), ResourceType::Database)
        .timeout(Duration::from_secs(1))
        .build();
    recorded(&recorder, async {
        for _ in 0..3 {
            api.call(Context::new(), |_| async { Ok::<_, String>(1) }).await.unwrap();
        }
        db.call(Context::new(), |_| async { Ok::<_, String>(1) }).await.unwrap();
        let failed = api.call(Context::new(), |_| async { Err::<u8, _>("down".to_owned()) }).await;
        assert!(failed.is_err());
    });
    let expected = BTreeMap::from([entry("api_quota", "primary", 3), entry("database", "primary", 1)]);
    assert_eq!(served(&snapshotter), expected, "a failed call is not served");
}

#[test]
fn a_switched_provider_is_counted_by_its_strategy() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let gate = Arc::new(StaticGate::new());
    gate.set_for_model(ResourceType::ApiQuota, "gpt-4", ResourceStatus::Exhausted, 100.0);
    let protocol = FallbackProtocol::builder()
        .gate(gate)
        .clock(TokioClock::shared())
        .providers(["gpt-4", "claude"])
        .build()
        .unwrap();
    let pipeline = Pipeline::builder()
        .fallback_with(protocol, ResourceType::ApiQuota, [FallbackStrategy::SwitchProvider])
        .build();
    recorded(&recorder, async {
        let ctx = Context::new().model("gpt-4");
        let answer = pipeline.call(ctx, |a| async move { Ok::<_, String>(a.model_or("?").to_owned()) }).await;
        assert_eq!(answer.unwrap(), "claude");
        let answer = pipeline.call(Context::new().model("claude"), |_| async { Ok::<_, String>("direct") });
        assert_eq!(answer.await.unwrap(), "direct");
    });
    let expected =
        BTreeMap::from([entry("api_quota", "primary", 1), entry("api_quota", "switch_provider", 1)]);
    assert_eq!(served(&snapshotter), expected);
}
