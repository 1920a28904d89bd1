//! A tiny seedable generator for jitter: SplitMix64.
//!
//! Jitter needs spread, not cryptographic quality. SplitMix64 passes BigCrush, is one add and
//! three multiply-xorshift steps per number, and needs no dependency.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// SplitMix64 state. An unseeded generator draws its seed from the process's hash keys on
/// first use, so clones of a fresh, unseeded backoff do not share one jitter sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SplitMix64 {
    state: u64,
    seeded: bool,
}

impl SplitMix64 {
    /// A generator that seeds itself on first use.
    pub(crate) const fn unseeded() -> Self {
        Self { state: 0, seeded: false }
    }

    /// A generator with a fixed seed: the same sequence every time.
    pub(crate) const fn with_seed(seed: u64) -> Self {
        Self { state: seed, seeded: true }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        if !self.seeded {
            self.state = fresh_seed();
            self.seeded = true;
        }
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `lo..=hi` (returns `lo` when `hi <= lo`).
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u128 + 1;
        // Multiply-shift maps 64 random bits onto the span with negligible bias.
        lo + ((self.next_u64() as u128 * span) >> 64) as u64
    }
}

fn fresh_seed() -> u64 {
    // `RandomState::new` is keyed from OS randomness once per thread, then stepped per call.
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5EED);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sequences_repeat() {
        let mut a = SplitMix64::with_seed(7);
        let mut b = SplitMix64::with_seed(7);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
    }

    #[test]
    fn known_first_output_for_seed_zero() {
        // Reference value of SplitMix64 seeded with 0.
        assert_eq!(SplitMix64::with_seed(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn unseeded_clones_diverge() {
        let base = SplitMix64::unseeded();
        let (mut a, mut b) = (base, base);
        assert_ne!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn between_stays_in_range() {
        let mut r = SplitMix64::with_seed(1);
        for _ in 0..10_000 {
            let x = r.between(10, 20);
            assert!((10..=20).contains(&x));
        }
        assert_eq!(r.between(5, 5), 5);
        assert_eq!(r.between(9, 3), 9);
    }
}
