use crate::support::*;
use elf_resilience_core::{CircuitState, ManualClock, SlidingWindow};
use std::time::Duration;

#[test]
fn count_window_opens_on_failure_rate() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .failure_threshold(100)
        .sliding_window(SlidingWindow::Count(10))
        .failure_rate_threshold(50.0)
        .minimum_calls(10)
        .build()
        .unwrap();
    for _ in 0..4 {
        let _ = fail(&cb);
        let _ = ok(&cb);
    }
    let _ = fail(&cb); // 9 calls: below the minimum
    assert_eq!(cb.state(), CircuitState::Closed);
    let _ = ok(&cb); // 10 calls, 5 failures: the rate is judged on failures only
    assert_eq!(cb.state(), CircuitState::Closed);
    let _ = fail(&cb); // window slides: drops a failure, adds one: 5 of 10
    assert_eq!(cb.state(), CircuitState::Open);
}

#[test]
fn count_window_slides_old_failures_out() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .failure_threshold(100)
        .sliding_window(SlidingWindow::Count(4))
        .failure_rate_threshold(75.0)
        .minimum_calls(4)
        .build()
        .unwrap();
    let _ = fail(&cb);
    let _ = fail(&cb);
    for _ in 0..10 {
        let _ = ok(&cb);
    }
    let _ = fail(&cb);
    let _ = fail(&cb);
    assert_eq!(cb.state(), CircuitState::Closed, "2 of the last 4 failed");
    let _ = fail(&cb);
    assert_eq!(cb.state(), CircuitState::Open, "3 of the last 4 failed");
}

#[test]
fn time_window_forgets_failures_older_than_its_span() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .failure_threshold(100)
        .sliding_window(SlidingWindow::Time(Duration::from_secs(64)))
        .failure_rate_threshold(50.0)
        .minimum_calls(4)
        .build()
        .unwrap();
    let _ = fail(&cb);
    let _ = fail(&cb);
    let _ = fail(&cb);
    clock.advance(secs(64));
    let _ = fail(&cb);
    let _ = ok(&cb);
    let _ = ok(&cb);
    assert_eq!(cb.state(), CircuitState::Closed, "old failures left the window");
    let _ = fail(&cb);
    assert_eq!(cb.state(), CircuitState::Open, "2 failures of 4 calls in the window");
}

#[test]
fn slow_calls_open_on_slow_rate() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .sliding_window(SlidingWindow::Count(4))
        .minimum_calls(4)
        .slow_call_duration(Duration::from_millis(500))
        .slow_call_rate_threshold(50.0)
        .build()
        .unwrap();
    let slow = || {
        cb.call(|| {
            clock.advance(Duration::from_millis(600));
            Ok::<_, ApiError>(())
        })
    };
    assert!(slow().is_ok());
    let _ = ok(&cb);
    let _ = ok(&cb);
    assert_eq!(cb.state(), CircuitState::Closed);
    assert!(slow().is_ok());
    assert_eq!(cb.state(), CircuitState::Open);
    let s = cb.stats();
    assert_eq!((s.slow_calls, s.successful_calls, s.failed_calls), (2, 4, 0));
}

#[test]
fn window_is_cleared_when_the_breaker_closes() {
    let clock = ManualClock::new();
    let cb = builder(&clock)
        .failure_threshold(100)
        .recovery_timeout(secs(1))
        .sliding_window(SlidingWindow::Count(4))
        .failure_rate_threshold(50.0)
        .minimum_calls(2)
        .build()
        .unwrap();
    let _ = fail(&cb);
    let _ = fail(&cb);
    assert_eq!(cb.state(), CircuitState::Open);
    clock.advance(secs(1));
    let _ = ok(&cb);
    assert_eq!(cb.state(), CircuitState::Closed);
    let _ = fail(&cb); // 1 call in the fresh window: below the minimum
    assert_eq!(cb.state(), CircuitState::Closed);
}
