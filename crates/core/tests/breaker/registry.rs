use crate::support::*;
use elf_resilience_core::{
    CircuitBreaker, CircuitBreakerRegistry, CircuitState, InvalidBreakerConfig, ManualClock,
};

#[test]
fn get_or_create_uses_the_template_under_each_name() {
    let clock = ManualClock::new();
    let registry = CircuitBreakerRegistry::new(builder(&clock).failure_threshold(1)).unwrap();
    let a = registry.get_or_create("a");
    assert_eq!(a.name(), "a");
    let _ = fail(&a);
    assert!(registry.get_or_create("a").state().is_open());
    assert_eq!(registry.get_or_create("b").state(), CircuitState::Closed);
    assert_eq!(registry.len(), 2);
    assert!(registry.get("c").is_none());
}

#[test]
fn get_or_create_with_validates_and_keeps_existing() {
    let registry = CircuitBreakerRegistry::default();
    let bad = registry.get_or_create_with("x", CircuitBreaker::builder().failure_threshold(0));
    assert_eq!(bad.unwrap_err(), InvalidBreakerConfig::Zero { field: "failure_threshold" });
    let made = registry.get_or_create_with("x", CircuitBreaker::builder().failure_threshold(1)).unwrap();
    let _ = fail(&made);
    let again = registry.get_or_create_with("x", CircuitBreaker::builder().failure_threshold(9)).unwrap();
    assert!(again.state().is_open());
}

#[test]
fn a_second_registration_with_other_settings_is_a_warning_naming_both() {
    let registry = CircuitBreakerRegistry::default();
    let with = |n| CircuitBreaker::builder().failure_threshold(n).recovery_timeout(secs(30));
    let logs = logged(|| {
        let first = registry.get_or_create_with("openai", with(2)).unwrap();
        let second = registry.get_or_create_with("openai", with(7)).unwrap();
        let _ = fail(&second);
        let _ = fail(&second);
        assert!(first.state().is_open(), "the first registration is the one kept");
    });
    let warning =
        logs.lines().find(|l| l.contains("WARN")).unwrap_or_else(|| panic!("no warning in {logs:?}"));
    assert!(warning.contains("exists with other settings"), "{warning}");
    assert!(warning.contains("breaker=\"openai\"") || warning.contains("breaker=openai"), "{warning}");
    assert!(warning.contains("kept=failure_threshold=2, recovery_timeout=30s"), "{warning}");
    assert!(warning.contains("ignored=failure_threshold=7, recovery_timeout=30s"), "{warning}");

    let registered = logged(|| {
        registry.register(CircuitBreaker::builder().name("openai").failure_threshold(3).build().unwrap());
    });
    assert!(registered.contains("ignored=failure_threshold=3"), "register warns too: {registered:?}");
}

#[test]
fn a_second_registration_with_the_same_settings_is_quiet() {
    let registry = CircuitBreakerRegistry::default();
    let clock = ManualClock::new();
    let logs = logged(|| {
        registry.get_or_create_with("db", builder(&clock).failure_threshold(2)).unwrap();
        // Same thresholds: the clock (and filters, listeners) are not compared.
        registry.get_or_create_with("db", CircuitBreaker::builder().failure_threshold(2)).unwrap();
        registry.get_or_create("db");
    });
    assert!(!logs.contains("WARN"), "{logs}");
}

#[test]
fn register_remove_and_dashboard_listing() {
    let registry = CircuitBreakerRegistry::default();
    registry.register(CircuitBreaker::new("zeta"));
    registry.register(CircuitBreaker::new("alpha"));
    let names: Vec<_> = registry.all().iter().map(|b| b.name().to_owned()).collect();
    assert_eq!(names, ["alpha", "zeta"]);
    assert_eq!(registry.stats().len(), 2);
    assert!(registry.remove("alpha").is_some());
    assert_eq!(registry.len(), 1);
}

#[test]
fn global_registry_is_shared() {
    let a = CircuitBreakerRegistry::global().get_or_create("registry-test-global");
    a.force_open();
    let b = CircuitBreakerRegistry::global().get("registry-test-global").unwrap();
    assert_eq!(b.state(), CircuitState::ForcedOpen);
    CircuitBreakerRegistry::global().remove("registry-test-global");
}

#[test]
fn invalid_configs_are_rejected() {
    use elf_resilience_core::SlidingWindow;
    let b = CircuitBreaker::builder;
    let err = |r: Result<CircuitBreaker, InvalidBreakerConfig>| r.unwrap_err();
    assert!(matches!(err(b().half_open_permits(0).build()), InvalidBreakerConfig::Zero { .. }));
    assert!(matches!(err(b().failure_threshold(70_000).build()), InvalidBreakerConfig::TooLarge { .. }));
    assert!(matches!(
        err(b().half_open_permits(2).half_open_successes(3).build()),
        InvalidBreakerConfig::SuccessesExceedPermits { successes: 3, permits: 2 }
    ));
    assert!(matches!(
        err(b().failure_rate_threshold(50.0).build()),
        InvalidBreakerConfig::NeedsWindow { .. }
    ));
    let windowed = || b().sliding_window(SlidingWindow::Count(10)).minimum_calls(5);
    assert!(matches!(
        err(windowed().failure_rate_threshold(f64::NAN).build()),
        InvalidBreakerConfig::Percentage { .. }
    ));
    assert!(matches!(
        err(windowed().failure_rate_threshold(0.0).build()),
        InvalidBreakerConfig::Percentage { .. }
    ));
    assert!(matches!(
        err(windowed().slow_call_rate_threshold(10.0).build()),
        InvalidBreakerConfig::SlowCallIncomplete
    ));
    assert!(matches!(err(windowed().minimum_calls(11).build()), InvalidBreakerConfig::TooLarge { .. }));
    let zero_time = b().sliding_window(SlidingWindow::Time(std::time::Duration::ZERO)).build();
    assert!(matches!(err(zero_time), InvalidBreakerConfig::EmptyTimeWindow));
}

#[test]
fn a_bounded_registry_drops_idle_closed_breakers_least_recently_used_first() {
    let clock = ManualClock::new();
    let template = builder(&clock).failure_threshold(1);
    let registry = CircuitBreakerRegistry::builder().template(template).max_breakers(16).build().unwrap();
    let _ = fail(&registry.get_or_create("db:open")); // opens: never dropped
    let held = registry.get_or_create("db:held");
    let kept = registry.get_or_create("db:kept");
    for i in 0..1000 {
        let _ = registry.get_or_create("db:kept"); // used again and again
        let _ = ok(&registry.get_or_create(&format!("db:op-{i}")));
    }
    assert!(registry.len() <= 16, "{} breakers", registry.len());
    assert!(registry.get("db:open").unwrap().state().is_open());
    assert!(registry.get("db:held").is_some_and(|cb| cb.name() == held.name()));
    assert!(registry.get("db:kept").is_some());
    assert!(registry.get("db:op-999").is_some());
    assert!(registry.get("db:op-0").is_none());
    assert_eq!(kept.stats().total_calls, 0);
    assert_eq!(registry.max_breakers(), 16);
}

#[test]
fn registries_are_bounded_by_default_and_reject_a_zero_bound() {
    use elf_resilience_core::DEFAULT_MAX_BREAKERS;
    assert_eq!(CircuitBreakerRegistry::default().max_breakers(), DEFAULT_MAX_BREAKERS);
    let zero = CircuitBreakerRegistry::builder().max_breakers(0).build();
    assert_eq!(zero.unwrap_err(), InvalidBreakerConfig::Zero { field: "max_breakers" });
}

#[test]
fn a_removed_breaker_is_returned_and_made_afresh_on_the_next_use() {
    let clock = ManualClock::new();
    let registry = CircuitBreakerRegistry::new(builder(&clock).failure_threshold(1)).unwrap();
    let _ = fail(&registry.get_or_create("tenant:chat"));
    let removed = registry.remove("tenant:chat").unwrap();
    assert!(removed.state().is_open());
    assert!(registry.remove("tenant:chat").is_none());
    assert_eq!(registry.get_or_create("tenant:chat").state(), CircuitState::Closed);
}
