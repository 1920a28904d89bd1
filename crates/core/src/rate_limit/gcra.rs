//! The pure GCRA decision: no atomics, no clock, only numbers.

/// The generic cell rate algorithm over a theoretical arrival time (TAT) in nanoseconds.
///
/// A cell costs `interval` nanoseconds of TAT; a request is allowed while the TAT it would
/// produce is at most `tolerance` (= `interval × burst`) ahead of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gcra {
    interval: u64,
    tolerance: u64,
    /// `tolerance - interval`: how far the TAT may be ahead of now for one more cell to fit.
    slack: u64,
}

impl Gcra {
    /// The algorithm for cells of `interval` nanoseconds and a burst window of `tolerance`
    /// (at least one cell).
    pub(crate) const fn new(interval: u64, tolerance: u64) -> Self {
        Self { interval, tolerance, slack: tolerance.saturating_sub(interval) }
    }

    /// [`decide`](Self::decide) for one cell, in the fewest steps: a denial is one subtraction
    /// and one comparison.
    #[inline]
    pub(crate) fn decide_one(self, tat: u64, now: u64) -> Result<u64, u64> {
        let earliest = tat.saturating_sub(self.slack);
        if now < earliest {
            return Err(earliest - now);
        }
        Ok(tat.max(now).saturating_add(self.interval))
    }

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

    const G: Gcra = Gcra::new(100, 500);

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
    fn one_cell_decides_as_n_equals_one() {
        for g in [G, Gcra::new(100, 100), Gcra::new(7, 7 * 13), Gcra::new(u64::MAX / 2, u64::MAX)] {
            for tat in [0, 1, 99, 100, 400, 401, 500, 10_000, u64::MAX / 2] {
                for now in [0, 1, 99, 100, 101, 499, 500, 9_600, 10_000, u64::MAX / 2, u64::MAX] {
                    assert_eq!(g.decide_one(tat, now), g.decide(tat, now, 1), "{g:?} tat {tat} now {now}");
                }
            }
        }
    }

    #[test]
    fn more_than_burst_never_fits() {
        assert_eq!(G.decide(0, 0, 6), Err(100));
        assert_eq!(G.decide(0, 1_000_000, 6), Err(100));
    }
}
