//! Every backoff against its closed formula, and jitter within its bounds.

use std::time::Duration;

use elf_resilience_core::{
    AdaptiveBackoff, ExponentialBackoff, FibonacciBackoff, FixedDelay, InvalidBackoff, Jitter, LinearBackoff,
};
use proptest::prelude::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn fib(n: u32) -> u128 {
    let (mut a, mut b) = (1u128, 1u128);
    for _ in 1..n {
        (a, b) = (b, a + b);
    }
    a
}

#[test]
fn seed_examples() {
    let exp = ExponentialBackoff::try_new(5, ms(500), 3.0, Duration::from_secs(30), false).unwrap();
    let secs: Vec<f64> = exp.map(|d| d.as_secs_f64()).collect();
    assert_eq!(secs, [0.5, 1.5, 4.5, 13.5, 30.0]);

    let lin: Vec<u64> = LinearBackoff::new().with_max_retries(4).map(|d| d.as_secs()).collect();
    assert_eq!(lin, [1, 2, 3, 4]);

    let fibs: Vec<u64> = FibonacciBackoff::new().with_max_retries(5).map(|d| d.as_secs()).collect();
    assert_eq!(fibs, [1, 1, 2, 3, 5]);

    let exp: Vec<u64> = ExponentialBackoff::new().with_max_retries(4).map(|d| d.as_secs()).collect();
    assert_eq!(exp, [1, 2, 4, 8]);
}

/// Each bad setting is refused by `build()` with an error naming it; only a built schedule
/// can be iterated (the builders are not iterators, so `Retry::new` refuses them: see the
/// facade's compile-fail cases).
#[test]
fn invalid_settings_are_typed_errors_naming_the_field() {
    let exp = ExponentialBackoff::builder;
    let err = exp().with_multiplier(0.5).build().unwrap_err();
    assert_eq!(err, InvalidBackoff::MultiplierBelowOne { field: "multiplier", value: 0.5 });
    assert_eq!(err.to_string(), "multiplier must be at least 1, got 0.5");
    let err = exp().with_multiplier(-2.0).build().unwrap_err();
    assert_eq!(err, InvalidBackoff::MultiplierBelowOne { field: "multiplier", value: -2.0 });
    assert!(matches!(exp().with_multiplier(0.0).build(), Err(InvalidBackoff::MultiplierBelowOne { .. })));
    let err = exp().with_multiplier(f64::NAN).build().unwrap_err();
    assert!(matches!(err, InvalidBackoff::NotFinite { field: "multiplier", value } if value.is_nan()));
    assert_eq!(err.to_string(), "multiplier must be a finite number, got NaN");
    let err = exp().with_multiplier(f64::INFINITY).build().unwrap_err();
    assert_eq!(err, InvalidBackoff::NotFinite { field: "multiplier", value: f64::INFINITY });
    let err = exp().with_base_delay(Duration::ZERO).build().unwrap_err();
    assert_eq!(err, InvalidBackoff::ZeroDelay { field: "base_delay" });
    assert_eq!(err.to_string(), "base_delay must be greater than zero");
    let err = exp().with_base_delay(ms(500)).with_max_delay(ms(100)).build().unwrap_err();
    assert_eq!(err, InvalidBackoff::MaxBelowBase { field: "base_delay", base: ms(500), max: ms(100) });
    assert_eq!(err.to_string(), "max_delay (100ms) is below base_delay (500ms)");

    let lin = LinearBackoff::builder;
    assert_eq!(
        lin().with_increment(Duration::ZERO).build().unwrap_err(),
        InvalidBackoff::ZeroDelay { field: "increment" }
    );
    assert!(matches!(
        lin().with_base_delay(ms(10)).with_max_delay(ms(5)).build(),
        Err(InvalidBackoff::MaxBelowBase { field: "base_delay", .. })
    ));
    let fib = FibonacciBackoff::builder;
    assert_eq!(
        fib().with_base_delay(Duration::ZERO).build().unwrap_err(),
        InvalidBackoff::ZeroDelay { field: "base_delay" }
    );

    let adaptive = AdaptiveBackoff::builder;
    let err = adaptive().with_success_reduction(f64::NAN).build().unwrap_err();
    assert!(matches!(err, InvalidBackoff::NotFinite { field: "success_reduction", .. }));
    let err = adaptive().with_failure_increase(0.5).build().unwrap_err();
    assert_eq!(err, InvalidBackoff::MultiplierBelowOne { field: "failure_increase", value: 0.5 });
    let err = adaptive().with_success_reduction(-0.5).build().unwrap_err();
    assert_eq!(err, InvalidBackoff::ReductionOutOfRange { field: "success_reduction", value: -0.5 });
    assert_eq!(
        adaptive().with_min_delay(Duration::ZERO).build().unwrap_err(),
        InvalidBackoff::ZeroDelay { field: "min_delay" }
    );
}

/// `build_const` in a `const` checks the settings when the program compiles.
#[test]
fn const_schedules_are_built_and_checked_at_compile_time() {
    const SEED: ExponentialBackoff = ExponentialBackoff::builder()
        .with_max_retries(5)
        .with_base_delay(Duration::from_millis(500))
        .with_multiplier(3.0)
        .with_max_delay(Duration::from_secs(30))
        .build_const();
    let secs: Vec<f64> = SEED.map(|d| d.as_secs_f64()).collect();
    assert_eq!(secs, [0.5, 1.5, 4.5, 13.5, 30.0]);
    const STEPS: LinearBackoff =
        LinearBackoff::builder().with_increment(Duration::from_secs(2)).build_const();
    assert_eq!(STEPS.map(|d| d.as_secs()).collect::<Vec<_>>(), [1, 3, 5]);
    const FIBS: FibonacciBackoff =
        FibonacciBackoff::builder().with_max_delay(Duration::from_secs(1)).build_const();
    assert_eq!(FIBS.map(|d| d.as_secs()).collect::<Vec<_>>(), [1, 1, 1]);
}

#[test]
#[should_panic(expected = "invalid backoff: multiplier must be at least 1")]
fn build_const_outside_a_const_panics_naming_the_field() {
    let shrinking = std::hint::black_box(0.5);
    let _ = ExponentialBackoff::builder().with_multiplier(shrinking).build_const();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn exponential_matches_closed_formula(
        base in 1u64..10_000, mult in 1.0f64..8.0, extra in 0u64..100_000, retries in 0u32..40,
    ) {
        let (base, max) = (ms(base), ms(base + extra));
        let b = ExponentialBackoff::builder().with_base_delay(base).with_multiplier(mult)
            .with_max_delay(max).with_max_retries(retries).build().unwrap();
        let got: Vec<Duration> = b.collect();
        prop_assert_eq!(got.len(), retries as usize);
        for (n, d) in got.iter().enumerate() {
            let want = (base.as_secs_f64() * mult.powi(n as i32)).min(max.as_secs_f64());
            prop_assert!((d.as_secs_f64() - want).abs() <= want * 1e-9 + 1e-9, "n={} got={:?} want={}", n, d, want);
        }
    }

    #[test]
    fn linear_matches_closed_formula(
        base in 0u64..10_000, inc in 1u64..10_000, extra in 0u64..100_000, retries in 0u32..60,
    ) {
        let b = LinearBackoff::builder().with_base_delay(ms(base)).with_increment(ms(inc))
            .with_max_delay(ms(base + extra)).with_max_retries(retries).build().unwrap();
        let got: Vec<Duration> = b.collect();
        prop_assert_eq!(got.len(), retries as usize);
        for (n, d) in got.iter().enumerate() {
            prop_assert_eq!(*d, ms((base + inc * n as u64).min(base + extra)));
        }
    }

    #[test]
    fn fixed_is_constant(delay in 0u64..100_000, retries in 0u32..60) {
        let got: Vec<Duration> = FixedDelay::new().with_delay(ms(delay)).with_max_retries(retries).collect();
        prop_assert_eq!(got, vec![ms(delay); retries as usize]);
    }

    #[test]
    fn fibonacci_matches_closed_formula(base in 1u64..10_000, extra in 0u64..10_000_000, retries in 0u32..90) {
        let b = FibonacciBackoff::builder().with_base_delay(ms(base)).with_max_delay(ms(base + extra))
            .with_max_retries(retries).build().unwrap();
        let got: Vec<Duration> = b.collect();
        prop_assert_eq!(got.len(), retries as usize);
        for (n, d) in got.iter().enumerate() {
            let want = (base as u128 * fib(n as u32 + 1)).min((base + extra) as u128);
            prop_assert_eq!(d.as_millis(), want);
        }
    }

    #[test]
    fn adaptive_follows_model(ops in proptest::collection::vec(any::<bool>(), 0..200), init in 100u64..60_000) {
        let a = AdaptiveBackoff::builder().with_initial_delay(ms(init)).with_success_reduction(0.5)
            .with_failure_increase(3.0).with_min_delay(ms(100)).with_max_delay(ms(60_000)).build().unwrap();
        let shared = a.clone();
        let mut model = ms(init).as_nanos() as f64;
        for success in ops {
            // The learned delay is whole nanoseconds: truncate like it does.
            if success { shared.record_success(); model = (model * 0.5).floor().max(1e8); }
            else { a.record_failure(); model = (model * 3.0).floor().min(6e10); }
            let got = a.current_delay().as_nanos() as f64;
            prop_assert!((got - model).abs() <= 1.0 + model * 1e-9, "got {} model {}", got, model);
        }
    }

    #[test]
    fn full_and_equal_jitter_stay_in_bounds(seed in any::<u64>(), base in 1u64..5_000, retries in 1u32..20) {
        let schedule = ExponentialBackoff::builder().with_base_delay(ms(base)).with_max_retries(retries)
            .build().unwrap();
        let plain: Vec<Duration> = schedule.clone().collect();
        let full: Vec<Duration> = schedule.clone().with_jitter(Jitter::Full).with_seed(seed).collect();
        let equal: Vec<Duration> = schedule.with_jitter(Jitter::Equal).with_seed(seed).collect();
        for ((p, f), e) in plain.iter().zip(&full).zip(&equal) {
            prop_assert!(*f <= *p);
            prop_assert!(*e <= *p && *e >= *p / 2, "equal {:?} plain {:?}", e, p);
        }
    }

    #[test]
    fn decorrelated_jitter_stays_in_bounds(seed in any::<u64>(), base in 1u64..5_000, extra in 0u64..100_000) {
        let (base, cap) = (ms(base), ms(base + extra));
        let got: Vec<Duration> = ExponentialBackoff::builder().with_base_delay(base).with_max_delay(cap)
            .with_max_retries(30).with_jitter(Jitter::Decorrelated).with_seed(seed).build().unwrap().collect();
        let mut prev = base;
        for d in got {
            prop_assert!(d >= base.min(cap) && d <= cap && d <= prev * 3, "{:?} prev {:?}", d, prev);
            prev = d;
        }
    }

    #[test]
    fn seeded_jitter_repeats(seed in any::<u64>()) {
        let make = || LinearBackoff::new().with_jitter(Jitter::Full).with_seed(seed).with_max_retries(8);
        prop_assert_eq!(make().collect::<Vec<_>>(), make().collect::<Vec<_>>());
    }
}

#[test]
fn unseeded_jitter_differs_between_clones() {
    let template = ExponentialBackoff::new().with_jitter(Jitter::Full).with_max_retries(16);
    let a: Vec<Duration> = template.clone().collect();
    let b: Vec<Duration> = template.collect();
    assert_ne!(a, b);
}

#[test]
fn full_jitter_spreads_over_the_range() {
    let d: Vec<Duration> = FixedDelay::new()
        .with_delay(ms(1000))
        .with_jitter(Jitter::Full)
        .with_seed(11)
        .with_max_retries(1000)
        .collect();
    let low = d.iter().filter(|x| **x < ms(250)).count();
    let high = d.iter().filter(|x| **x > ms(750)).count();
    assert!(low > 150 && high > 150, "low {low} high {high}");
}
