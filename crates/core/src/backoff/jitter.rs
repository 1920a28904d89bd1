//! Randomised delays, after the AWS Architecture Blog's "Exponential Backoff And Jitter".

use std::time::Duration;

use super::rng::SplitMix64;
use crate::clock::duration_to_nanos;

/// How a backoff randomises each delay `d` (the capped, un-jittered delay of the schedule).
///
/// | variant        | delay                                             |
/// |----------------|---------------------------------------------------|
/// | `None`         | `d`                                               |
/// | `Full`         | uniform in `[0, d]`                               |
/// | `Equal`        | `d / 2` plus uniform in `[0, d / 2]`              |
/// | `Decorrelated` | `min(cap, uniform in [base, 3 × previous delay])` |
///
/// `Decorrelated` ignores the schedule's growth rule: each delay depends only on the previous
/// one, starting from `base`. `Jitter::from(true)` is `Equal`, the seed's `jitter=True`: it
/// keeps at least half of every delay, so the schedule's shape survives the randomisation.
///
/// ```
/// use elf_resilience_core::Jitter;
/// assert_eq!(Jitter::from(true), Jitter::Equal);
/// assert_eq!(Jitter::from(false), Jitter::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// No randomisation.
    #[default]
    None,
    /// Uniform in `[0, d]`.
    Full,
    /// Half fixed, half random: uniform in `[d / 2, d]`.
    Equal,
    /// Uniform in `[base, 3 × previous]`, capped.
    Decorrelated,
}

impl From<bool> for Jitter {
    fn from(enabled: bool) -> Self {
        if enabled { Jitter::Equal } else { Jitter::None }
    }
}

/// The jitter setting with its generator and the previous delay (for `Decorrelated`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JitterState {
    pub(crate) kind: Jitter,
    rng: SplitMix64,
    prev: u64,
}

impl JitterState {
    pub(crate) const fn new() -> Self {
        Self { kind: Jitter::None, rng: SplitMix64::unseeded(), prev: 0 }
    }

    pub(crate) const fn with_kind(mut self, kind: Jitter) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) const fn with_seed(mut self, seed: u64) -> Self {
        self.rng = SplitMix64::with_seed(seed);
        self
    }

    /// Randomises the schedule's delay `d`, given the schedule's first delay and cap.
    pub(crate) fn apply(&mut self, d: Duration, base: Duration, cap: Duration) -> Duration {
        let d = duration_to_nanos(d);
        let nanos = match self.kind {
            Jitter::None => d,
            Jitter::Full => self.rng.between(0, d),
            Jitter::Equal => d / 2 + self.rng.between(0, d - d / 2),
            Jitter::Decorrelated => self.decorrelated(base, cap),
        };
        Duration::from_nanos(nanos)
    }

    fn decorrelated(&mut self, base: Duration, cap: Duration) -> u64 {
        let (base, cap) = (duration_to_nanos(base), duration_to_nanos(cap));
        let prev = if self.prev == 0 { base } else { self.prev };
        let next = self.rng.between(base, prev.saturating_mul(3)).min(cap);
        self.prev = next;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn none_is_identity() {
        let mut j = JitterState::new();
        assert_eq!(j.apply(S * 4, S, S * 10), S * 4);
    }

    #[test]
    fn equal_keeps_half() {
        let mut j = JitterState::new().with_kind(Jitter::Equal).with_seed(3);
        for _ in 0..1000 {
            let d = j.apply(S * 4, S, S * 10);
            assert!(d >= S * 2 && d <= S * 4, "{d:?}");
        }
    }

    #[test]
    fn decorrelated_chains_from_previous() {
        let mut j = JitterState::new().with_kind(Jitter::Decorrelated).with_seed(9);
        let first = j.apply(S, S, S * 100);
        assert!(first >= S && first <= S * 3);
        let second = j.apply(S, S, S * 100);
        assert!(second >= S && second <= first * 3);
    }
}
