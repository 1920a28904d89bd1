use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{
    Clock, FallbackError, FallbackRequest, FallbackStrategy, InMemoryCache, ResourceType, ResponseCache,
    TraceKind,
};

use crate::support::Rig;

fn db_request(id: u32) -> FallbackRequest<Vec<String>> {
    FallbackRequest::new(ResourceType::Database).cache_key(format!("user:{id}"))
}

#[test]
fn serves_cached_answers_fresh_then_stale_then_gives_up() {
    let rig = Rig::new();
    let cache = Arc::new(InMemoryCache::new(100).unwrap());
    let ttl = Duration::from_secs(60);
    let protocol = rig.builder().cache(cache.clone(), ttl, Duration::from_secs(600)).build().unwrap();
    let ok = protocol
        .execute_request_blocking(db_request(7), |_| Ok::<_, String>(vec!["ada".to_owned()]))
        .unwrap();
    assert!(!ok.served().unwrap().from_cache);

    let down = |_| Err::<Vec<String>, _>("db down".to_owned());
    rig.clock.advance(Duration::from_secs(30));
    let fresh = protocol.execute_request_blocking(db_request(7), down).unwrap();
    let served = fresh.served().unwrap();
    assert_eq!((served.by, served.from_cache, served.stale), (Some(FallbackStrategy::UseCache), true, false));
    assert_eq!(fresh.value().unwrap(), &["ada"]);
    assert_eq!(served.trace.calls(), 3, "primary and two retries failed first");

    rig.clock.advance(Duration::from_secs(120));
    let stale = protocol.execute_request_blocking(db_request(7), down).unwrap();
    assert!(stale.served().unwrap().stale);
    let note = stale.trace().events.iter().find(|e| e.kind == TraceKind::FromCache).unwrap().note.clone();
    assert_eq!(note.as_deref(), Some("age 150.4s, stale"), "150 s plus four 100 ms retry delays");

    rig.clock.advance(Duration::from_secs(3600));
    let gone = protocol.execute_request_blocking(db_request(7), down).unwrap_err();
    assert!(matches!(gone, FallbackError::Exhausted { .. }));
    assert!(gone.trace().events.iter().any(|e| e.note.as_deref() == Some("cache miss")));
    assert!(cache.get("user:8", rig.clock.wall(), Duration::MAX).unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn async_success_is_stored_with_the_per_call_ttl() {
    let rig = Rig::new();
    let cache = Arc::new(InMemoryCache::new(10).unwrap());
    let protocol =
        rig.builder().cache(cache.clone(), Duration::from_secs(1), Duration::ZERO).build().unwrap();
    let req = FallbackRequest::new(ResourceType::Database)
        .strategies([FallbackStrategy::UseCache])
        .cache_key_with_ttl("report", Duration::from_secs(90));
    protocol.execute(req, |_| async { Ok::<_, String>(42_u32) }).await.unwrap();
    let wall = rig.clock.wall();
    let hit = cache.get("report", wall + Duration::from_secs(90), Duration::ZERO).unwrap().unwrap();
    assert_eq!(hit.value, serde_json::json!(42));
    assert!(cache.get("report", wall + Duration::from_secs(91), Duration::ZERO).unwrap().is_none());
}
