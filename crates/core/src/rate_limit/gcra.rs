//! The pure GCRA decision: no atomics, no clock, only numbers.

/// The generic cell rate algorithm over a theoretical arrival time (TAT) in nanoseconds.
///
/// A cell costs `interval` nanoseconds of TAT; a request is allowed while the TAT it would
/// produce is at most `tolerance` (= `interval × burst`) ahead of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gcra {
    pub(crate) interval: u64,
    pub(crate) tolerance: u64,
}

impl Gcra {
    /// The TAT after admitting `n` cells at `now`, or the nanoseconds to wait until they fit.
    #[inline]
    pub(crate) fn decide(self, tat: u64, now: u64, n: u32) -> Result<u64, u64> {
        let cost = self.interval.saturating_mul(u64::from(n));
        let next = tat.max(now).saturating_add(cost);
        let allowed_at = next.saturating_sub(self.tolerance);
        if allowed_at <= now { Ok(next) } else { Err(allowed_at - now) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Gcra = Gcra { interval: 100, tolerance: 500 };

    #[test]
    fn burst_then_one_per_interval() {
        let mut tat = 0;
        for _ in 0..5 {
            tat = G.decide(tat, 0, 1).unwrap();
        }
        assert_eq!(tat, 500);
        assert_eq!(G.decide(tat, 0, 1), Err(100));
        assert_eq!(G.decide(tat, 99, 1), Err(1));
        assert_eq!(G.decide(tat, 100, 1), Ok(600));
    }

    #[test]
    fn idle_time_refills_but_never_beyond_burst() {
        let tat = G.decide(0, 10_000, 5).unwrap();
        assert_eq!(tat, 10_500);
        assert_eq!(G.decide(tat, 10_000, 1), Err(100));
    }

    #[test]
    fn more_than_burst_never_fits() {
        assert_eq!(G.decide(0, 0, 6), Err(100));
        assert_eq!(G.decide(0, 1_000_000, 6), Err(100));
    }
}
