//! Applies the pure decisions of `state.rs` to the shared state word.
//!
//! Changes within a state (counting failures, admitting probes) are one CAS on the word.
//! Changes of state kind take a small lock as well, so that the bookkeeping (time per state,
//! generation numbers) follows transitions in order; readers and the closed-state path never
//! take it.

use super::builder::BreakerConfig;
use super::counters::{Count, Counters};
use super::metrics::BreakerMetrics;
use super::state::{Event, NO_DEADLINE, State, Verdict, decide, half_open_deadline, needs_clock};
use super::sync::{AtomicU64, Mutex, Ordering, lock};
use super::window::{NO_BUCKET_END, Window};
use super::{CircuitOpen, CircuitState};
use crate::clock::{Clock, SystemClock};
use std::time::{Duration, SystemTime};

/// Transition bookkeeping, guarded by the lock.
#[derive(Debug)]
pub(crate) struct Book {
    pub stay: u32,
    pub entered_at: u64,
    pub entered_wall: SystemTime,
    pub spent: [u64; 5],
    pub transitions: u64,
}

/// The shared part of a breaker.
#[derive(Debug)]
pub(crate) struct Inner {
    pub cfg: BreakerConfig,
    pub(crate) word: AtomicU64,
    /// When the current half-open stay times out; written under the lock before the word
    /// turns half-open.
    half_open_until: AtomicU64,
    pub book: Mutex<Book>,
    pub(crate) window: Option<Window>,
    /// When the time window's latest bucket ends: a successful call at or after it is recorded
    /// (claims a new bucket). [`NO_BUCKET_END`] without a time window.
    pub(crate) bucket_end: AtomicU64,
    pub counters: Counters,
    pub(super) metrics: BreakerMetrics,
}

const STAY_LIMIT: u32 = 1 << 29;

/// A rejection before it becomes a [`CircuitOpen`]: two words, returned in registers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rejection {
    state: CircuitState,
    /// Nanoseconds until a probe is allowed, or [`NO_RETRY`].
    retry_after: u64,
}

const NO_RETRY: u64 = u64::MAX;

impl Inner {
    pub(crate) fn new(cfg: BreakerConfig) -> Self {
        let now = cfg.clock.now_nanos();
        let book =
            Book { stay: 0, entered_at: now, entered_wall: cfg.clock.wall(), spent: [0; 5], transitions: 0 };
        let metrics = BreakerMetrics::new(&cfg.name);
        metrics.set_state(CircuitState::Closed);
        let window = cfg.window.map(Window::new);
        Self {
            bucket_end: AtomicU64::new(window.as_ref().map_or(NO_BUCKET_END, Window::initial_bucket_end)),
            window,
            word: AtomicU64::new(State::initial().pack()),
            half_open_until: AtomicU64::new(NO_DEADLINE),
            book: Mutex::new(book),
            counters: Counters::default(),
            metrics,
            cfg,
        }
    }

    /// The current state word, unpacked.
    #[inline(always)]
    pub(crate) fn load(&self) -> State {
        State::unpack(self.word.load(Ordering::Acquire))
    }

    /// Admits a call or rejects it; an admitted call gets the packed state word it was
    /// admitted in. A closed breaker answers with one atomic load; an open one before its
    /// deadline with one clock reading and a counter increment.
    #[inline(always)]
    pub(crate) fn acquire(&self) -> Result<u64, Rejection> {
        self.acquire_from(self.word.load(Ordering::Acquire))
    }

    /// Like [`acquire`](Self::acquire), with the state word just loaded.
    #[inline(always)]
    pub(crate) fn acquire_from(&self, word: u64) -> Result<u64, Rejection> {
        if State::admits_freely(word) {
            return Ok(word);
        }
        let mut now = None;
        if let Some(until) = State::open_until(word) {
            let t = self.now_nanos();
            if t < until {
                return Err(self.reject(State::Open { until }, Some(until - t)));
            }
            now = Some(t);
        }
        self.acquire_slow(now)
    }

    /// The clock's reading; the system clock's is read inline, without a virtual call.
    #[inline(always)]
    pub(crate) fn now_nanos(&self) -> u64 {
        if self.cfg.system_clock { SystemClock.now_nanos() } else { self.cfg.clock.now_nanos() }
    }

    #[cold]
    fn acquire_slow(&self, now: Option<u64>) -> Result<u64, Rejection> {
        match self.apply(Event::Acquire, now) {
            (Verdict::Admitted(permit), _) => Ok(permit.pack()),
            (Verdict::Rejected { retry_after }, seen) => Err(self.reject(seen, retry_after)),
            (Verdict::Done, seen) => Ok(seen.pack()),
        }
    }

    #[inline(always)]
    fn reject(&self, seen: State, retry_after: Option<u64>) -> Rejection {
        self.count(Count::Rejected);
        // A rejection with a retry time comes from an open state (perhaps one just reopened
        // from a timed-out half-open stay).
        let state = if retry_after.is_some() { CircuitState::Open } else { seen.kind() };
        Rejection { state, retry_after: retry_after.unwrap_or(NO_RETRY) }
    }

    /// The error for a rejection, built where it is returned (a `CircuitOpen` moved through
    /// intermediate results is copied piecewise, which stalls store forwarding).
    #[inline(always)]
    pub(crate) fn open_error(&self, r: Rejection) -> CircuitOpen {
        let retry_after = (r.retry_after != NO_RETRY).then(|| Duration::from_nanos(r.retry_after));
        CircuitOpen { name: self.cfg.name.clone(), state: r.state, retry_after }
    }

    #[inline(always)]
    pub(crate) fn count(&self, what: Count) {
        self.counters.bump(what);
    }

    /// Publishes the call counters to the metrics recorder.
    pub(crate) fn publish_metrics(&self) {
        self.metrics.publish(&self.counters);
    }

    pub(crate) fn now(&self, cache: &mut Option<u64>) -> u64 {
        *cache.get_or_insert_with(|| self.now_nanos())
    }

    /// Applies `event`: a CAS loop around [`decide`]. Returns the verdict and the state it
    /// was decided in.
    pub(crate) fn apply(&self, event: Event, mut now: Option<u64>) -> (Verdict, State) {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            let state = State::unpack(word);
            let t = if needs_clock(state, event, &self.cfg.limits) { self.now(&mut now) } else { 0 };
            let d = decide(state, event, t, &self.cfg.limits, 0, self.half_open_until(state));
            let Some(next) = d.next else { return (d.verdict, state) };
            if next.kind() != state.kind() || event == Event::Reset {
                return self.apply_locked(event, now);
            }
            match self.word.compare_exchange_weak(word, next.pack(), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return (d.verdict, state),
                Err(seen) => word = seen,
            }
        }
    }

    /// Like [`apply`](Self::apply), holding the lock so transitions are booked in order.
    #[cold]
    fn apply_locked(&self, event: Event, mut now: Option<u64>) -> (Verdict, State) {
        let mut book = lock(&self.book);
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            let state = State::unpack(word);
            let t = if needs_clock(state, event, &self.cfg.limits) { self.now(&mut now) } else { 0 };
            let fresh = (book.stay + 1) % STAY_LIMIT;
            let d = decide(state, event, t, &self.cfg.limits, fresh, self.half_open_until(state));
            let Some(next) = d.next else { return (d.verdict, state) };
            let changes_kind = next.kind() != state.kind();
            if changes_kind && next.kind() == CircuitState::HalfOpen {
                let until = half_open_deadline(t, &self.cfg.limits);
                self.half_open_until.store(until, Ordering::Relaxed);
            }
            if next.kind() == CircuitState::Closed && (changes_kind || event == Event::Reset) {
                self.clear_window();
            }
            match self.word.compare_exchange(word, next.pack(), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) if changes_kind => {
                    book.stay = fresh;
                    self.book_transition(&mut book, state.kind(), next.kind(), self.now(&mut now));
                    drop(book);
                    self.cfg.listeners.notify(&self.cfg.name, state.kind(), next.kind());
                    return (d.verdict, state);
                }
                Ok(_) => return (d.verdict, state),
                Err(seen) => word = seen,
            }
        }
    }

    /// When `state`, if half-open, times out (read after the word that holds `state`).
    fn half_open_until(&self, state: State) -> u64 {
        match state {
            State::HalfOpen { .. } => self.half_open_until.load(Ordering::Relaxed),
            _ => NO_DEADLINE,
        }
    }

    fn clear_window(&self) {
        if let Some(w) = &self.window {
            w.clear(self.window_calls());
            self.bucket_end.store(w.initial_bucket_end(), Ordering::Relaxed);
        }
    }

    fn book_transition(&self, book: &mut Book, from: CircuitState, to: CircuitState, now: u64) {
        book.spent[from.as_code() as usize] += now.saturating_sub(book.entered_at);
        book.entered_at = now.max(book.entered_at);
        book.entered_wall = self.cfg.clock.wall();
        book.transitions += 1;
        self.metrics.transition(to);
        self.metrics.publish(&self.counters);
    }
}
