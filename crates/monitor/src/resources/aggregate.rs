//! How one resource's status comes from its probes, the same rule for every resource type:
//! the worst of the *known* readings answers (worse status first, then higher usage); the
//! resource reads `Unknown` only when none of its probes is known. Probes that are unknown
//! beside a known one are named in the reason.

use elf_resilience_core::{Context, ResourceStatus, ResourceType};

use super::manager::{Inner, ResourceReading, selector_tag};
use super::slot::SlotRead;

/// The probe answering for a resource and what its slot held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Picked {
    /// The probe's index in the manager.
    pub(crate) index: usize,
    /// Its reading.
    pub(crate) read: SlotRead,
    /// Whether a context tag selected it by name (then it answers alone).
    pub(crate) by_tag: bool,
}

/// The status and usage of `read` when it is known: fresh and not `Unknown`.
pub(crate) fn known(read: SlotRead) -> Option<(ResourceStatus, f64)> {
    match read {
        SlotRead::Fresh(status, usage) if status != ResourceStatus::Unknown => Some((status, usage)),
        _ => None,
    }
}

/// How bad a known status is.
fn severity(status: ResourceStatus) -> u8 {
    match status {
        ResourceStatus::Healthy => 0,
        ResourceStatus::Warning => 1,
        ResourceStatus::Critical => 2,
        _ => 3,
    }
}

/// Whether `a` answers for the resource rather than `b`: a known reading beats an unknown
/// one; of two known ones the worse status wins, then the higher usage; otherwise `b` stays.
pub(crate) fn outranks(a: SlotRead, b: SlotRead) -> bool {
    match (known(a), known(b)) {
        (Some(_), None) => true,
        (Some((sa, ua)), Some((sb, ub))) => (severity(sa), ua) > (severity(sb), ub),
        _ => false,
    }
}

impl Inner {
    /// The probe answering for `resource` under `ctx`: the one a tag names, else the
    /// aggregation rule's pick. `None` when the type has no probe.
    #[inline]
    pub(crate) fn pick(&self, resource: ResourceType, ctx: &Context, now: u64) -> Option<Picked> {
        let wanted = if ctx.tags.is_empty() { None } else { ctx.get_tag(selector_tag(resource)) };
        let mut best: Option<Picked> = None;
        for (index, entry) in self.entries(resource) {
            let read = entry.slot.load(now);
            if wanted == Some(entry.probe.name()) {
                return Some(Picked { index, read, by_tag: true });
            }
            if best.is_none_or(|b| outranks(read, b.read)) {
                best = Some(Picked { index, read, by_tag: false });
            }
        }
        best
    }

    /// The picked probe's reading, with the reason naming every unknown probe beside it.
    pub(crate) fn aggregate(&self, resource: ResourceType, picked: Picked, now: u64) -> ResourceReading {
        let mut reading = self.explain(picked.index, picked.read);
        if picked.by_tag || self.entries(resource).nth(1).is_none() {
            return reading;
        }
        let unknown: Vec<String> = self
            .entries(resource)
            .filter_map(|(i, entry)| {
                let read = if i == picked.index { picked.read } else { entry.slot.load(now) };
                known(read).is_none().then(|| {
                    let why = self.explain(i, read).reason.unwrap_or_else(|| "no reason given".into());
                    format!("`{}` unknown: {why}", entry.probe.name())
                })
            })
            .collect();
        if unknown.is_empty() {
            return reading;
        }
        let own = reading.reason.take().filter(|_| known(picked.read).is_some());
        reading.reason = Some(own.into_iter().chain(unknown).collect::<Vec<_>>().join("; "));
        reading
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResourceStatus::*;

    #[test]
    fn known_readings_outrank_unknown_ones_and_the_worst_known_wins() {
        let fresh = SlotRead::Fresh;
        assert!(outranks(fresh(Healthy, 1.0), fresh(Unknown, 0.0)));
        assert!(outranks(fresh(Healthy, 1.0), SlotRead::Stale));
        assert!(outranks(fresh(Healthy, 1.0), SlotRead::Empty));
        assert!(!outranks(fresh(Unknown, 0.0), fresh(Healthy, 1.0)));
        assert!(!outranks(SlotRead::Stale, fresh(Unknown, 0.0)));
        assert!(outranks(fresh(Critical, 96.0), fresh(Warning, 85.0)));
        assert!(outranks(fresh(Exhausted, 100.0), fresh(Critical, 99.0)));
        assert!(outranks(fresh(Warning, 90.0), fresh(Warning, 85.0)));
        assert!(!outranks(fresh(Warning, 99.0), fresh(Critical, 96.0)));
    }
}
