//! The pure state machine that turns run results into a check status.
//!
//! A status turns worse only after `failure_threshold` consecutive runs worse than it, and
//! better only after `success_threshold` consecutive runs better than it; the new status is
//! the result of the run that crossed the threshold. The first run of a check (from `Unknown`)
//! sets its status at once, whatever it observed: hysteresis applies to later transitions.

use serde::Serialize;

use super::HealthStatus;

/// The status of one check and the streaks behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hysteresis {
    /// The status after hysteresis.
    pub status: HealthStatus,
    /// Consecutive runs that were not healthy.
    pub consecutive_failures: u32,
    /// Consecutive runs that were healthy.
    pub consecutive_successes: u32,
    better_streak: u32,
    worse_streak: u32,
}

/// A change of status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The status before.
    pub from: HealthStatus,
    /// The status after.
    pub to: HealthStatus,
}

impl Default for Hysteresis {
    fn default() -> Self {
        Self::new()
    }
}

impl Hysteresis {
    /// A check that has not run yet: `Unknown`.
    pub const fn new() -> Self {
        Self {
            status: HealthStatus::Unknown,
            consecutive_failures: 0,
            consecutive_successes: 0,
            better_streak: 0,
            worse_streak: 0,
        }
    }

    /// Records one run that observed `observed` (Healthy, Degraded or Unhealthy), returning
    /// the transition if the status changed.
    ///
    /// ```
    /// use elf_resilience_monitor::{HealthStatus::*, Hysteresis};
    ///
    /// let mut h = Hysteresis::new();
    /// assert!(h.observe(Healthy, 3, 1).is_some());
    /// assert!(h.observe(Unhealthy, 3, 1).is_none());
    /// assert!(h.observe(Unhealthy, 3, 1).is_none());
    /// assert_eq!(h.observe(Unhealthy, 3, 1).map(|t| t.to), Some(Unhealthy));
    /// ```
    pub fn observe(
        &mut self,
        observed: HealthStatus,
        failure_threshold: u32,
        success_threshold: u32,
    ) -> Option<Transition> {
        self.count_run(observed);
        if self.status == HealthStatus::Unknown {
            return Some(self.adopt(observed));
        }
        let (better_threshold, worse_threshold) = (success_threshold.max(1), failure_threshold.max(1));
        let adopt = match compare(observed, self.status) {
            Direction::Same => {
                (self.better_streak, self.worse_streak) = (0, 0);
                false
            }
            Direction::Better => {
                (self.better_streak, self.worse_streak) = (self.better_streak + 1, 0);
                self.better_streak >= better_threshold
            }
            Direction::Worse => {
                (self.better_streak, self.worse_streak) = (0, self.worse_streak + 1);
                self.worse_streak >= worse_threshold
            }
        };
        adopt.then(|| self.adopt(observed))
    }

    fn count_run(&mut self, observed: HealthStatus) {
        if observed.is_healthy() {
            self.consecutive_successes = self.consecutive_successes.saturating_add(1);
            self.consecutive_failures = 0;
        } else {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.consecutive_successes = 0;
        }
    }

    fn adopt(&mut self, observed: HealthStatus) -> Transition {
        let from = self.status;
        self.status = observed;
        (self.better_streak, self.worse_streak) = (0, 0);
        Transition { from, to: observed }
    }
}

enum Direction {
    Same,
    Better,
    Worse,
}

fn compare(observed: HealthStatus, current: HealthStatus) -> Direction {
    match (observed.severity(), current.severity()) {
        (Some(o), Some(c)) if o == c => Direction::Same,
        (Some(o), Some(c)) if o < c => Direction::Better,
        _ => Direction::Worse,
    }
}

#[cfg(test)]
mod tests {
    use super::HealthStatus::*;
    use super::*;

    fn run(h: &mut Hysteresis, seq: &[HealthStatus], f: u32, s: u32) -> Vec<Option<HealthStatus>> {
        seq.iter().map(|o| h.observe(*o, f, s).map(|t| t.to)).collect()
    }

    #[test]
    fn the_first_run_sets_the_status_whatever_it_saw() {
        for first in [Healthy, Degraded, Unhealthy] {
            let mut h = Hysteresis::new();
            assert_eq!(run(&mut h, &[first], 3, 2), vec![Some(first)], "first run {first:?}");
            assert_eq!(h.status, first);
        }
    }

    #[test]
    fn failure_threshold_delays_unhealthy() {
        let mut h = Hysteresis::new();
        let got =
            run(&mut h, &[Healthy, Unhealthy, Unhealthy, Healthy, Unhealthy, Unhealthy, Unhealthy], 3, 1);
        assert_eq!(got, vec![Some(Healthy), None, None, None, None, None, Some(Unhealthy)]);
        assert_eq!(h.consecutive_failures, 3);
    }

    #[test]
    fn success_threshold_delays_recovery() {
        let mut h = Hysteresis::new();
        run(&mut h, &[Unhealthy], 1, 2);
        assert_eq!(h.status, Unhealthy);
        assert_eq!(
            run(&mut h, &[Healthy, Unhealthy, Healthy, Healthy], 1, 2),
            vec![None, None, None, Some(Healthy)]
        );
        assert_eq!(h.consecutive_successes, 2);
    }

    #[test]
    fn degraded_runs_count_as_worse_than_healthy() {
        let mut h = Hysteresis::new();
        run(&mut h, &[Healthy], 2, 1);
        assert_eq!(run(&mut h, &[Degraded, Degraded], 2, 1), vec![None, Some(Degraded)]);
        assert_eq!(run(&mut h, &[Unhealthy, Unhealthy], 2, 1), vec![None, Some(Unhealthy)]);
        assert_eq!(run(&mut h, &[Degraded], 2, 1), vec![Some(Degraded)]);
    }
}
