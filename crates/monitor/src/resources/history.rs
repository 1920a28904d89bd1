//! Bounded, downsampled history of readings per resource type: one bucket per minute holding
//! the peak, sum and count of the usages sampled in it.

use std::collections::VecDeque;

const BUCKET_NANOS: u64 = 60_000_000_000;
/// A week of minutes.
const MAX_BUCKETS: usize = 7 * 24 * 60;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    minute: u64,
    peak: f64,
    sum: f64,
    count: u64,
}

/// Peak and average usage over a period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct UsageStats {
    pub(crate) peak: f64,
    pub(crate) average: f64,
    pub(crate) samples: u64,
}

/// The history of one resource type.
#[derive(Debug, Default)]
pub(crate) struct History {
    buckets: VecDeque<Bucket>,
}

impl History {
    /// Records a usage sampled at monotonic time `now` (nanoseconds).
    pub(crate) fn record(&mut self, now: u64, usage: f64) {
        if !usage.is_finite() {
            return;
        }
        let minute = now / BUCKET_NANOS;
        match self.buckets.back_mut() {
            Some(b) if b.minute == minute => {
                b.peak = b.peak.max(usage);
                b.sum += usage;
                b.count += 1;
            }
            _ => self.buckets.push_back(Bucket { minute, peak: usage, sum: usage, count: 1 }),
        }
        while self.buckets.len() > MAX_BUCKETS {
            self.buckets.pop_front();
        }
    }

    /// Peak and average over readings taken at or after `since` (nanoseconds), by whole
    /// minutes; `None` when there are none.
    pub(crate) fn stats(&self, since: u64) -> Option<UsageStats> {
        let first = since / BUCKET_NANOS;
        let recent = self.buckets.iter().rev().take_while(|b| b.minute >= first);
        let (peak, sum, samples) =
            recent.fold((f64::MIN, 0.0, 0), |(p, s, n), b| (p.max(b.peak), s + b.sum, n + b.count));
        (samples > 0).then(|| UsageStats { peak, average: sum / samples as f64, samples })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_and_average_cover_only_the_period() {
        let mut h = History::default();
        h.record(0, 90.0);
        h.record(10 * BUCKET_NANOS, 20.0);
        h.record(10 * BUCKET_NANOS + 1, 40.0);
        let all = h.stats(0).unwrap();
        assert_eq!((all.peak, all.average, all.samples), (90.0, 50.0, 3));
        let recent = h.stats(5 * BUCKET_NANOS).unwrap();
        assert_eq!((recent.peak, recent.average, recent.samples), (40.0, 30.0, 2));
        assert_eq!(h.stats(11 * BUCKET_NANOS), None);
    }

    #[test]
    fn stays_bounded() {
        let mut h = History::default();
        for m in 0..(MAX_BUCKETS as u64 + 10) {
            h.record(m * BUCKET_NANOS, 1.0);
        }
        assert_eq!(h.buckets.len(), MAX_BUCKETS);
    }
}
