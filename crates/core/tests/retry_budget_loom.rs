//! Exhaustive interleavings of the retry budget's bucket words under loom: concurrent deposits
//! are never lost, and racing withdrawals overshoot by at most the racers (as documented).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p elf-resilience-core --test retry_budget_loom --release`.
#![cfg(loom)]

use elf_resilience_core::{ManualClock, RetryBudget};
use loom::thread;

/// Two calls pay for one retry; no free retries.
fn budget() -> RetryBudget {
    RetryBudget::builder().min_per_sec(0).retry_ratio(0.5).clock(ManualClock::new()).build().unwrap()
}

#[test]
fn concurrent_deposits_are_all_counted() {
    loom::model(|| {
        let budget = budget();
        let other = budget.clone();
        let t = thread::spawn(move || other.deposit());
        budget.deposit();
        t.join().unwrap();
        assert_eq!(budget.available_retries(), 1);
        assert!(budget.withdraw());
        assert!(!budget.withdraw());
    });
}

#[test]
fn a_deposit_racing_a_withdrawal_is_not_lost() {
    loom::model(|| {
        let budget = budget();
        for _ in 0..2 {
            budget.deposit();
        }
        let other = budget.clone();
        let t = thread::spawn(move || other.deposit());
        let took = budget.withdraw();
        t.join().unwrap();
        assert!(took, "one retry was paid for before the race");
        // Three deposits (1.5 retries) less one retry: half a retry is left, so none is available.
        assert_eq!(budget.available_retries(), 0);
        budget.deposit();
        assert!(budget.withdraw(), "the half retry left plus a deposit pay for one more");
    });
}

#[test]
fn racing_withdrawals_of_the_last_retry_overshoot_by_at_most_one() {
    loom::model(|| {
        let budget = budget();
        for _ in 0..2 {
            budget.deposit();
        }
        let other = budget.clone();
        let t = thread::spawn(move || other.withdraw());
        let mine = budget.withdraw();
        let theirs = t.join().unwrap();
        assert!(mine || theirs, "the paid retry goes to someone");
        assert!(!budget.withdraw(), "after the race the budget is spent");
        for _ in 0..2 {
            budget.deposit();
        }
        // An overshoot is paid back by the next deposits before another retry is allowed.
        assert_eq!(budget.withdraw(), !(mine && theirs));
    });
}
