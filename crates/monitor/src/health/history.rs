//! A bounded ring of a check's recent results.

use std::collections::VecDeque;

use super::HistoryEntry;

/// The most recent results of one check, oldest first, at most `capacity` of them.
#[derive(Debug, Clone)]
pub struct History {
    entries: VecDeque<HistoryEntry>,
    capacity: usize,
}

impl History {
    /// An empty history keeping at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self { entries: VecDeque::with_capacity(capacity.min(64)), capacity }
    }

    /// Adds an entry, dropping the oldest when full.
    pub fn push(&mut self, entry: HistoryEntry) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The newest entry.
    pub fn last(&self) -> Option<&HistoryEntry> {
        self.entries.back()
    }

    /// The entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &HistoryEntry> {
        self.entries.iter()
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HealthStatus;
    use std::time::{Duration, SystemTime};

    #[test]
    fn keeps_the_newest() {
        let mut h = History::new(3);
        for i in 0..5 {
            h.push(HistoryEntry {
                time: SystemTime::UNIX_EPOCH,
                status: HealthStatus::Healthy,
                message: i.to_string().into(),
                duration: Duration::ZERO,
            });
        }
        let kept: Vec<_> = h.iter().map(|e| &*e.message).collect();
        assert_eq!(kept, ["2", "3", "4"]);
    }
}
