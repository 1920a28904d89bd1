use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{
    CircuitBreaker, CircuitBreakerRegistry, Context, FallbackError, FallbackRequest, FallbackStrategy,
    ResourceType,
};

use crate::support::{Calls, Rig};

fn registry(rig: &Rig) -> Arc<CircuitBreakerRegistry> {
    let template = CircuitBreaker::builder()
        .failure_threshold(2)
        .recovery_timeout(Duration::from_secs(30))
        .clock(rig.clock.shared());
    Arc::new(CircuitBreakerRegistry::new(template).unwrap())
}

fn req() -> FallbackRequest<u32> {
    FallbackRequest::new(ResourceType::Database)
        .context(Context::new().operation("get_user"))
        .strategies([FallbackStrategy::Retry, FallbackStrategy::CircuitBreak])
}

#[test]
fn opens_per_resource_and_operation_and_then_skips_the_call() {
    let rig = Rig::new();
    let breakers = registry(&rig);
    let protocol = rig.builder().breakers(breakers.clone()).build().unwrap();
    let calls = Calls::default();
    let failing = |a: elf_resilience_core::Attempt| {
        calls.push(&a);
        Err::<u32, _>("connection refused")
    };
    let first = protocol.execute_request_blocking(req(), failing).unwrap_err();
    assert_eq!(calls.len(), 2, "threshold 2: the second failure opens the breaker");
    let FallbackError::CircuitOpen { name, retry_after, .. } = first else {
        panic!("expected open: {first}")
    };
    assert_eq!(name, "database:get_user");
    assert_eq!(retry_after, Some(Duration::from_millis(29_900)));
    assert!(breakers.get("database:get_user").unwrap().state().is_open());

    let second = protocol.execute_request_blocking(req(), failing).unwrap_err();
    assert!(second.is_circuit_open());
    assert_eq!(calls.len(), 2, "an open breaker skips the call");
    assert_eq!(second.trace().calls(), 0);

    rig.clock.advance(Duration::from_secs(31));
    let ok = protocol.execute_request_blocking(req(), |_| Ok::<_, &str>(5)).unwrap();
    assert_eq!(ok.value(), Some(&5));
    assert!(!breakers.get("database:get_user").unwrap().state().is_open());
}

#[tokio::test(start_paused = true)]
async fn other_operations_have_their_own_breaker() {
    let rig = Rig::new();
    let breakers = registry(&rig);
    breakers.get_or_create("database:get_user").trip();
    let protocol = rig.builder().breakers(breakers).build().unwrap();
    let other = req().context(Context::new().operation("list_orders"));
    let outcome = protocol.execute(other, |_| async { Ok::<_, String>(1) }).await.unwrap();
    assert_eq!(outcome.served_by(), None);
    let blocked = protocol.execute(req(), |_| async { Ok::<_, String>(1) }).await.unwrap_err();
    assert!(blocked.is_circuit_open());
    assert!(blocked.retry_after().is_some());
}
