//! The seed's import line, as one `use`: every name it lists is in the prelude and usable.

use elf_resilience::prelude::*;
use std::time::Duration;

/// Waits of a nanosecond: no time to speak of.
const QUICK: ExponentialBackoff =
    ExponentialBackoff::builder().with_max_retries(2).with_base_delay(Duration::from_nanos(1)).build_const();

#[with_retry(backoff = QUICK)]
fn flaky(calls: &std::cell::Cell<u32>) -> Result<u32, String> {
    calls.set(calls.get() + 1);
    if calls.get() < 3 { Err("blip".into()) } else { Ok(calls.get()) }
}

#[test]
fn the_prelude_holds_the_seed_import_line() {
    let calls = std::cell::Cell::new(0);
    assert_eq!(flaky(&calls), Ok(3));
    let breaker = CircuitBreaker::builder().name("OpenAI-API").failure_threshold(5).build().unwrap();
    assert!(!breaker.state().is_open());
    let protocol = FallbackProtocol::default();
    assert!(protocol.order_for(ResourceType::ApiQuota).contains(&FallbackStrategy::SwitchProvider));
    let _manager = ResourceManager::builder();
    let check = HealthCheck::builder("db", || async { true }).build().unwrap();
    let monitor = HealthMonitor::builder().build();
    monitor.register_check(check).unwrap();
    assert_eq!(monitor.check_names(), ["db"]);
}
