//! Properties of the GCRA rate limiter over random schedules, on a manual clock.

use elf_resilience_core::{Clock, ManualClock, Quota, RateLimiter};
use proptest::prelude::*;
use std::num::NonZeroU32;
use std::time::Duration;

fn limiter(per_second: u32, burst: u32) -> (RateLimiter<ManualClock>, ManualClock) {
    let clock = ManualClock::new();
    let quota =
        Quota::per_second(NonZeroU32::new(per_second).unwrap()).allow_burst(NonZeroU32::new(burst).unwrap());
    (RateLimiter::with_clock(quota, clock.clone()).unwrap(), clock)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Over any schedule, admitted cells never exceed the burst plus one per elapsed interval.
    #[test]
    fn never_admits_more_than_burst_plus_rate(
        per_second in 1u32..1000,
        burst in 1u32..20,
        steps in prop::collection::vec((0u64..50_000_000, 1u32..5), 1..200),
    ) {
        let (l, clock) = limiter(per_second, burst);
        let interval = 1_000_000_000 / u64::from(per_second);
        let mut admitted = 0u64;
        for (advance, n) in steps {
            clock.advance(Duration::from_nanos(advance));
            if l.check_n(NonZeroU32::new(n).unwrap()).is_ok() {
                admitted += u64::from(n);
            }
            let bound = u64::from(burst) + clock.now().as_nanos() as u64 / interval;
            prop_assert!(admitted <= bound, "admitted {} > bound {}", admitted, bound);
        }
    }

    /// A denial's retry-after is exact: one nanosecond earlier is still denied, at it is allowed.
    #[test]
    fn retry_after_is_exact(
        per_second in 1u32..1000,
        burst in 1u32..10,
        taken in 1u32..30,
    ) {
        let (l, clock) = limiter(per_second, burst);
        for _ in 0..taken {
            let _ = l.check();
        }
        if let Err(denied) = l.check() {
            prop_assert!(denied.retry_after() > Duration::ZERO);
            clock.advance(denied.retry_after() - Duration::from_nanos(1));
            prop_assert!(l.check().is_err());
            clock.advance(Duration::from_nanos(1));
            prop_assert!(l.check().is_ok());
        } else {
            prop_assert!(taken < burst);
        }
    }
}
