//! One task drives every check: a min-heap of due times, one timer, and the runs in flight
//! polled side by side in that task (a check must not block its thread: blocking work belongs
//! in `spawn_blocking`).
//!
//! Each check's first run is spread over its interval by a jitter derived from a seed and the
//! check's name, so the same seed always gives the same schedule; later runs keep that phase.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::entry::Entry;
use super::monitor::Shared;

/// A check and when it is next due.
struct Due {
    at: Instant,
    seq: u64,
    entry: Arc<Entry>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The fraction of its interval by which a check's first run is delayed, in [0, 1).
///
/// ```
/// use elf_resilience_monitor::jitter_fraction;
/// let a = jitter_fraction(7, "db");
/// assert_eq!(a, jitter_fraction(7, "db"));
/// assert_ne!(a, jitter_fraction(8, "db"));
/// assert!((0.0..1.0).contains(&a));
/// ```
pub fn jitter_fraction(seed: u64, name: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = (h ^ seed).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

type Run = futures_util::future::BoxFuture<'static, ()>;

struct Scheduler {
    shared: Arc<Shared>,
    heap: BinaryHeap<Reverse<Due>>,
    runs: FuturesUnordered<Run>,
    seq: u64,
}

/// Starts the scheduler task over `entries`; new checks arrive on the returned sender.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    entries: Vec<Arc<Entry>>,
) -> (mpsc::UnboundedSender<Arc<Entry>>, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (add_tx, add_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel();
    let heap = BinaryHeap::with_capacity(entries.len());
    let mut s = Scheduler { shared, heap, runs: FuturesUnordered::new(), seq: 0 };
    let start = Instant::now();
    for e in entries {
        s.add(e, start);
    }
    (add_tx, stop_tx, tokio::spawn(s.run(add_rx, stop_rx)))
}

impl Scheduler {
    fn add(&mut self, entry: Arc<Entry>, now: Instant) {
        let c = &entry.check;
        let seed = self.shared.jitter_seed;
        let jitter = seed.map_or(Duration::ZERO, |seed| c.interval.mul_f64(jitter_fraction(seed, &c.name)));
        self.push(now + c.initial_delay + jitter, entry);
    }

    fn push(&mut self, at: Instant, entry: Arc<Entry>) {
        self.seq += 1;
        self.heap.push(Reverse(Due { at, seq: self.seq, entry }));
    }

    /// Runs are polled here rather than spawned: a trivial check finishes on its first poll,
    /// with no task to create and no worker to wake.
    async fn run(
        mut self,
        mut add_rx: mpsc::UnboundedReceiver<Arc<Entry>>,
        mut stop_rx: oneshot::Receiver<()>,
    ) {
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        let sleep = tokio::time::sleep_until(far);
        tokio::pin!(sleep);
        loop {
            let next = self.heap.peek().map_or(far, |d| d.0.at);
            if sleep.deadline() != next {
                sleep.as_mut().reset(next);
            }
            tokio::select! {
                biased;
                _ = &mut stop_rx => break,
                Some(entry) = add_rx.recv() => self.add(entry, Instant::now()),
                Some(()) = self.runs.next(), if !self.runs.is_empty() => {}
                () = &mut sleep => self.fire_due(Instant::now()),
            }
        }
        tracing::debug!(in_flight = self.runs.len(), "health scheduler stopping");
        while self.runs.next().await.is_some() {}
    }

    fn fire_due(&mut self, now: Instant) {
        while self.heap.peek().is_some_and(|d| d.0.at <= now) {
            let Some(Reverse(due)) = self.heap.pop() else { break };
            if due.entry.try_begin() {
                let (shared, entry) = (self.shared.clone(), due.entry.clone());
                self.runs.push(Box::pin(async move {
                    let _end = EndGuard(&entry);
                    shared.run_entry(&entry, false).await;
                }));
            } else {
                metrics::counter!("elf_health_check_skipped_total").increment(1);
            }
            let next = due.at + due.entry.check.interval;
            self.push(if next <= now { now + due.entry.check.interval } else { next }, due.entry);
        }
    }
}

/// Clears the running flag however the run ends.
struct EndGuard<'a>(&'a Entry);

impl Drop for EndGuard<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}
