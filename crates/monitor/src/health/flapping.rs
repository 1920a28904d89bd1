//! Flap detection, after Nagios: weighted state changes over the last 21 results.
//!
//! Each of the 20 possible changes between 21 consecutive results weighs from 0.8 (oldest)
//! to 1.2 (newest); the percent state change is the weighted sum over 20. A check starts
//! flapping at or above the high threshold and stops below the low one.

use std::collections::VecDeque;

use super::HealthStatus;

/// How many results flap detection looks at.
pub const FLAP_WINDOW: usize = 21;

/// Percent thresholds for flap detection.
///
/// # Default
///
/// low 20 %, high 30 %.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlapThresholds {
    low: f64,
    high: f64,
}

/// Flap thresholds outside 0–100 or with low above high.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("flap thresholds must satisfy 0 <= low ({low}) <= high ({high}) <= 100")]
pub struct InvalidFlapThresholds {
    /// The low threshold given.
    pub low: f64,
    /// The high threshold given.
    pub high: f64,
}

impl Default for FlapThresholds {
    fn default() -> Self {
        Self { low: 20.0, high: 30.0 }
    }
}

impl FlapThresholds {
    /// Thresholds in percent; `low <= high`, both within 0–100.
    ///
    /// ```
    /// use elf_resilience_monitor::FlapThresholds;
    /// assert!(FlapThresholds::new(20.0, 30.0).is_ok());
    /// assert!(FlapThresholds::new(40.0, 30.0).is_err());
    /// ```
    pub fn new(low: f64, high: f64) -> Result<Self, InvalidFlapThresholds> {
        let ok = (0.0..=100.0).contains(&low) && (0.0..=100.0).contains(&high) && low <= high;
        if ok { Ok(Self { low, high }) } else { Err(InvalidFlapThresholds { low, high }) }
    }
}

/// Whether a check started or stopped flapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlapChange {
    /// The percent state change reached the high threshold.
    Started,
    /// The percent state change fell below the low threshold.
    Stopped,
}

/// The last results of one check and whether it is flapping.
#[derive(Debug, Clone)]
pub struct FlapDetector {
    states: VecDeque<HealthStatus>,
    thresholds: FlapThresholds,
    flapping: bool,
}

impl FlapDetector {
    /// A detector with no results yet.
    pub fn new(thresholds: FlapThresholds) -> Self {
        Self { states: VecDeque::with_capacity(FLAP_WINDOW), thresholds, flapping: false }
    }

    /// Whether the check is flapping now.
    pub fn is_flapping(&self) -> bool {
        self.flapping
    }

    /// The weighted percent state change over the window, 0–100.
    pub fn percent_state_change(&self) -> f64 {
        let changes = FLAP_WINDOW - 1;
        let offset = FLAP_WINDOW - self.states.len();
        let mut sum = 0.0;
        for (i, pair) in self.states.iter().zip(self.states.iter().skip(1)).enumerate() {
            if pair.0 != pair.1 {
                sum += 0.8 + 0.4 * (i + offset) as f64 / (changes - 1) as f64;
            }
        }
        100.0 * sum / changes as f64
    }

    /// Records one result, returning whether flapping started or stopped.
    pub fn observe(&mut self, status: HealthStatus) -> Option<FlapChange> {
        if self.states.len() == FLAP_WINDOW {
            self.states.pop_front();
        }
        self.states.push_back(status);
        let pct = self.percent_state_change();
        match self.flapping {
            false if pct >= self.thresholds.high => {
                self.flapping = true;
                Some(FlapChange::Started)
            }
            true if pct < self.thresholds.low => {
                self.flapping = false;
                Some(FlapChange::Stopped)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HealthStatus::*;
    use super::*;

    #[test]
    fn steady_results_never_flap() {
        let mut d = FlapDetector::new(FlapThresholds::default());
        for _ in 0..50 {
            assert_eq!(d.observe(Healthy), None);
        }
        assert_eq!(d.percent_state_change(), 0.0);
    }

    #[test]
    fn alternating_results_flap_then_settle() {
        let mut d = FlapDetector::new(FlapThresholds::default());
        let mut changes = Vec::new();
        for i in 0..21 {
            changes.extend(d.observe(if i % 2 == 0 { Healthy } else { Unhealthy }));
        }
        assert_eq!(changes, vec![FlapChange::Started]);
        assert!((d.percent_state_change() - 100.0).abs() < 1e-9);
        let stop = (0..21).find_map(|_| d.observe(Healthy));
        assert_eq!(stop, Some(FlapChange::Stopped));
        assert!(d.percent_state_change() < 20.0);
    }

    #[test]
    fn newest_changes_weigh_more() {
        let mut old = FlapDetector::new(FlapThresholds::default());
        let mut new = FlapDetector::new(FlapThresholds::default());
        for i in 0..21 {
            old.observe(if i == 0 { Unhealthy } else { Healthy });
            new.observe(if i == 20 { Unhealthy } else { Healthy });
        }
        assert!((old.percent_state_change() - 4.0).abs() < 1e-9);
        assert!((new.percent_state_change() - 6.0).abs() < 1e-9);
    }
}
