//! The breaker against a small reference model, over random sequences of calls (fast, slow,
//! failing, ignored, held open across other operations), clock advances and manual controls,
//! with and without a time limit on the half-open state.
//! Every step compares the answer, the state, the failure count, the counters and the time
//! booked per state.

use elf_resilience_core::{
    CircuitBreaker, CircuitBreakerError, CircuitPermit, CircuitState, ManualClock, SlidingWindow,
    TIME_WINDOW_BUCKETS,
};
use proptest::prelude::*;
use std::collections::VecDeque;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ok,
    Counted,
    Ignored,
}

#[derive(Debug, Clone)]
enum Op {
    /// A call taking this many milliseconds.
    Call(Kind, u64),
    /// Acquire a permit and hold it.
    Begin,
    /// Report the held permit at this index (modulo the number held).
    End(usize, Kind),
    Advance(u64),
    Trip,
    Reset,
    ForceOpen,
    Disable,
    OpenFor(u64),
}

#[derive(Debug, Clone, Copy)]
enum Win {
    Count(u32),
    TimeMs(u64),
}

#[derive(Debug, Clone, Copy)]
struct Cfg {
    threshold: u32,
    recovery_ms: u64,
    permits: u32,
    successes: u32,
    window: Option<(Win, u32, f64)>,
    slow: Option<(u64, f64)>,
    predicate: bool,
    max_wait_ms: Option<u64>,
}

const MS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum MState {
    Closed {
        failures: u32,
    },
    Open {
        until: u64,
    },
    /// `until`: when the stay times out (`u64::MAX`: never).
    HalfOpen {
        admitted: u32,
        succeeded: u32,
        until: u64,
    },
    Forced,
    Disabled,
}

impl MState {
    fn kind(self) -> CircuitState {
        match self {
            MState::Closed { .. } => CircuitState::Closed,
            MState::Open { .. } => CircuitState::Open,
            MState::HalfOpen { .. } => CircuitState::HalfOpen,
            MState::Forced => CircuitState::ForcedOpen,
            MState::Disabled => CircuitState::Disabled,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Ticket {
    kind: CircuitState,
    stay: u64,
    start: u64,
}

/// The reference model: plain fields, no atomics, written from the documented behaviour.
#[derive(Debug)]
struct Model {
    cfg: Cfg,
    now: u64,
    state: MState,
    stay: u64,
    window: VecDeque<(u64, bool, bool)>,
    counts: [u64; 5], // success, failure, rejected, ignored, slow
    transitions: u64,
    entered: u64,
    spent: [u64; 5],
}

type Answer = Result<CircuitState, Option<Duration>>;

impl Model {
    fn new(cfg: Cfg) -> Self {
        let (state, window) = (MState::Closed { failures: 0 }, VecDeque::new());
        Model {
            cfg,
            now: 0,
            state,
            stay: 0,
            window,
            counts: [0; 5],
            transitions: 0,
            entered: 0,
            spent: [0; 5],
        }
    }

    fn go(&mut self, next: MState) {
        if next.kind() != self.state.kind() {
            self.spent[self.state.kind().as_code() as usize] += self.now - self.entered;
            self.entered = self.now;
            self.transitions += 1;
            self.stay += 1;
            if next.kind() == CircuitState::Closed {
                self.window.clear();
            }
        }
        self.state = next;
    }

    fn open(&mut self) {
        self.go(MState::Open { until: self.now + self.cfg.recovery_ms * MS });
    }

    /// Reopens a half-open stay that outlived its time limit; true if it did.
    fn time_out_half_open(&mut self) -> bool {
        let timed_out = matches!(self.state, MState::HalfOpen { until, .. } if self.now >= until);
        if timed_out {
            self.open();
        }
        timed_out
    }

    fn acquire(&mut self) -> Result<Ticket, Option<Duration>> {
        let reject = |counts: &mut [u64; 5], after: Option<u64>| {
            counts[2] += 1;
            Err(after.map(Duration::from_nanos))
        };
        if self.time_out_half_open() {
            return reject(&mut self.counts, Some(self.cfg.recovery_ms * MS));
        }
        match self.state {
            MState::Open { until } if self.now < until => {
                return reject(&mut self.counts, Some(until - self.now));
            }
            MState::Open { .. } => {
                let until = self.cfg.max_wait_ms.map_or(u64::MAX, |ms| self.now + ms * MS);
                self.go(MState::HalfOpen { admitted: 1, succeeded: 0, until })
            }
            MState::HalfOpen { admitted, succeeded, until } if admitted < self.cfg.permits => {
                self.state = MState::HalfOpen { admitted: admitted + 1, succeeded, until }
            }
            MState::HalfOpen { .. } | MState::Forced => return reject(&mut self.counts, None),
            MState::Closed { .. } | MState::Disabled => {}
        }
        Ok(Ticket { kind: self.state.kind(), stay: self.stay, start: self.now })
    }

    fn finish(&mut self, t: Ticket, kind: Kind) {
        let ignored = kind == Kind::Ignored && self.cfg.predicate;
        let failed = kind != Kind::Ok && !ignored;
        let slow = !ignored && self.cfg.slow.is_some_and(|(ms, _)| self.now - t.start >= ms * MS);
        self.counts[if ignored {
            3
        } else if failed {
            1
        } else {
            0
        }] += 1;
        self.counts[4] += u64::from(slow);
        if t.kind == CircuitState::Disabled {
            return;
        }
        let exceeded = t.kind == CircuitState::Closed && !ignored && self.record(failed, slow);
        if self.time_out_half_open() {
            return;
        }
        if t.stay != self.stay || t.kind != self.state.kind() {
            return;
        }
        match self.state {
            MState::Closed { .. } if exceeded => self.open(),
            MState::Closed { .. } if ignored => {}
            MState::Closed { .. } if !failed => self.state = MState::Closed { failures: 0 },
            MState::Closed { failures } if failures + 1 >= self.cfg.threshold => self.open(),
            MState::Closed { failures } => self.state = MState::Closed { failures: failures + 1 },
            MState::HalfOpen { admitted, succeeded, until } if ignored => {
                self.state = MState::HalfOpen { admitted: admitted - 1, succeeded, until }
            }
            MState::HalfOpen { .. } if failed => self.open(),
            MState::HalfOpen { succeeded, .. } if succeeded + 1 >= self.cfg.successes => {
                self.go(MState::Closed { failures: 0 })
            }
            MState::HalfOpen { admitted, succeeded, until } => {
                self.state = MState::HalfOpen { admitted, succeeded: succeeded + 1, until }
            }
            _ => {}
        }
    }

    /// Adds an outcome to the window; true if a rate crossed its threshold.
    fn record(&mut self, failed: bool, slow: bool) -> bool {
        let Some((win, min_calls, fail_rate)) = self.cfg.window else { return false };
        self.window.push_back((self.now, failed, slow));
        let in_window: Vec<_> = match win {
            Win::Count(n) => {
                while self.window.len() > n as usize {
                    self.window.pop_front();
                }
                self.window.iter().collect()
            }
            Win::TimeMs(ms) => {
                let width = (ms * MS).div_ceil(TIME_WINDOW_BUCKETS);
                let epoch = self.now / width;
                self.window.iter().filter(|(at, ..)| at / width + TIME_WINDOW_BUCKETS > epoch).collect()
            }
        };
        let calls = in_window.len() as f64;
        let failures = in_window.iter().filter(|e| e.1).count() as f64;
        let slows = in_window.iter().filter(|e| e.2).count() as f64;
        let over = |n: f64, p: f64| n * 100.0 >= p * calls;
        (failed || slow)
            && calls >= f64::from(min_calls)
            && (over(failures, fail_rate) || self.cfg.slow.is_some_and(|(_, p)| over(slows, p)))
    }

    fn control(&mut self, op: &Op) {
        match *op {
            Op::Trip => self.open(),
            Op::Reset => {
                self.go(MState::Closed { failures: 0 });
                self.window.clear();
            }
            Op::ForceOpen => self.go(MState::Forced),
            Op::Disable => self.go(MState::Disabled),
            Op::OpenFor(ms) => match self.state {
                MState::Open { until } if until >= self.now + ms * MS => {}
                _ => self.go(MState::Open { until: self.now + ms * MS }),
            },
            _ => unreachable!(),
        }
    }

    fn failures(&self) -> u32 {
        if let MState::Closed { failures } = self.state { failures } else { 0 }
    }
}

fn build(cfg: Cfg, clock: &ManualClock) -> CircuitBreaker {
    let mut b = CircuitBreaker::builder()
        .name("model")
        .clock(clock.shared())
        .failure_threshold(cfg.threshold)
        .recovery_timeout(Duration::from_millis(cfg.recovery_ms))
        .half_open_permits(cfg.permits)
        .half_open_successes(cfg.successes);
    if let Some((win, min_calls, rate)) = cfg.window {
        let w = match win {
            Win::Count(n) => SlidingWindow::Count(n),
            Win::TimeMs(ms) => SlidingWindow::Time(Duration::from_millis(ms)),
        };
        b = b.sliding_window(w).minimum_calls(min_calls).failure_rate_threshold(rate);
    }
    if let Some((ms, rate)) = cfg.slow {
        b = b.slow_call_duration(Duration::from_millis(ms)).slow_call_rate_threshold(rate);
    }
    if cfg.predicate {
        b = b.record_error_if(|e: &Kind| *e == Kind::Counted);
    }
    if let Some(ms) = cfg.max_wait_ms {
        b = b.max_wait_in_half_open(Duration::from_millis(ms));
    }
    b.build().expect("generated configs are valid")
}

fn answer_of<T>(r: &Result<T, CircuitBreakerError<Kind>>, admitted_in: CircuitState) -> Answer {
    match r {
        Err(CircuitBreakerError::Open(open)) => Err(open.retry_after),
        _ => Ok(admitted_in),
    }
}

fn call(cb: &CircuitBreaker, clock: &ManualClock, kind: Kind, ms: u64) -> Answer {
    let before = cb.state();
    let r = cb.call(|| {
        clock.advance(Duration::from_millis(ms));
        if kind == Kind::Ok { Ok(()) } else { Err(kind) }
    });
    // A call admitted by an open breaker became a half-open probe.
    let admitted_in = if before == CircuitState::Open { CircuitState::HalfOpen } else { before };
    answer_of(&r, admitted_in)
}

fn model_call(m: &mut Model, kind: Kind, ms: u64) -> Answer {
    let ticket = m.acquire()?;
    m.now += ms * MS;
    m.finish(ticket, kind);
    Ok(ticket.kind)
}

fn report(permit: CircuitPermit<'_>, kind: Kind) {
    match kind {
        Kind::Ok => permit.record(&Ok::<(), Kind>(())),
        _ => permit.record(&Err::<(), Kind>(kind)),
    }
}

fn check(cb: &CircuitBreaker, m: &Model, step: usize) -> Result<(), TestCaseError> {
    let s = cb.stats();
    prop_assert_eq!(s.state, m.state.kind(), "state at step {}", step);
    prop_assert_eq!(s.consecutive_failures, m.failures(), "failures at step {}", step);
    let counts = [s.successful_calls, s.failed_calls, s.rejected_calls, s.ignored_calls, s.slow_calls];
    prop_assert_eq!(counts, m.counts, "counters at step {}", step);
    prop_assert_eq!(s.transitions, m.transitions, "transitions at step {}", step);
    let mut spent = m.spent;
    spent[m.state.kind().as_code() as usize] += m.now - m.entered;
    for state in CircuitState::ALL {
        let want = Duration::from_nanos(spent[state.as_code() as usize]);
        prop_assert_eq!(s.time_in_states.get(state), want, "time in {} at step {}", state, step);
    }
    Ok(())
}

fn run(cfg: Cfg, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let clock = ManualClock::new();
    let cb = build(cfg, &clock);
    let mut m = Model::new(cfg);
    let mut held: Vec<(CircuitPermit<'_>, Ticket)> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Call(kind, ms) => {
                let got = call(&cb, &clock, kind, ms);
                prop_assert_eq!(got, model_call(&mut m, kind, ms), "answer at step {}", step);
            }
            Op::Begin if held.len() < 4 => match (cb.try_acquire(), m.acquire()) {
                (Ok(p), Ok(t)) => held.push((p, t)),
                (Err(open), Err(after)) => {
                    prop_assert_eq!(open.retry_after, after, "rejection at step {}", step)
                }
                (got, want) => prop_assert!(false, "step {}: got {:?}, model {:?}", step, got.is_ok(), want),
            },
            Op::Begin => {}
            Op::End(i, kind) if !held.is_empty() => {
                let (permit, ticket) = held.remove(i % held.len());
                report(permit, kind);
                m.finish(ticket, kind);
            }
            Op::End(..) => {}
            Op::Advance(ms) => {
                clock.advance(Duration::from_millis(ms));
                m.now += ms * MS;
            }
            Op::Trip => cb.trip(),
            Op::Reset => cb.reset(),
            Op::ForceOpen => cb.force_open(),
            Op::Disable => cb.disable(),
            Op::OpenFor(ms) => cb.open_for(Duration::from_millis(ms)),
        }
        if matches!(op, Op::Trip | Op::Reset | Op::ForceOpen | Op::Disable | Op::OpenFor(_)) {
            m.control(op);
        }
        check(&cb, &m, step)?;
    }
    for (permit, ticket) in held {
        report(permit, Kind::Ok);
        m.finish(ticket, Kind::Ok);
    }
    check(&cb, &m, ops.len())
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![4 => Just(Kind::Ok), 4 => Just(Kind::Counted), 1 => Just(Kind::Ignored)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (kind(), prop_oneof![3 => Just(0u64), 1 => 0..300u64]).prop_map(|(k, ms)| Op::Call(k, ms)),
        3 => Just(Op::Begin),
        3 => (0..4usize, kind()).prop_map(|(i, k)| Op::End(i, k)),
        4 => prop_oneof![0..100u64, 900..3000u64].prop_map(Op::Advance),
        1 => Just(Op::Trip),
        1 => Just(Op::Reset),
        1 => (0..4000u64).prop_map(Op::OpenFor),
        1 => prop_oneof![Just(Op::ForceOpen), Just(Op::Disable)],
    ]
}

fn window() -> impl Strategy<Value = Option<(Win, u32, f64)>> {
    let count = (1..8u32).prop_flat_map(|n| (Just(Win::Count(n)), 1..=n));
    let time = (prop_oneof![Just(64u64), 100..2000u64], 1..6u32).prop_map(|(ms, min)| (Win::TimeMs(ms), min));
    let rate = prop_oneof![Just(50.0), Just(100.0), 10.0..=100.0f64];
    prop_oneof![2 => Just(None), 3 => (prop_oneof![count, time], rate).prop_map(|((w, m), r)| Some((w, m, r)))]
}

fn cfg() -> impl Strategy<Value = Cfg> {
    let slow = prop_oneof![Just(None), (50..250u64, prop_oneof![Just(50.0), 10.0..=100.0f64]).prop_map(Some)];
    let max_wait = prop_oneof![Just(None), (1..3000u64).prop_map(Some)];
    let half_open = ((1..4u32).prop_flat_map(|p| (Just(p), 1..=p)), max_wait);
    (1..6u32, 500..3000u64, half_open, window(), slow, any::<bool>()).prop_map(
        |(threshold, recovery_ms, ((permits, successes), max_wait_ms), window, slow, predicate)| {
            let slow = if window.is_some() { slow } else { None };
            Cfg { threshold, recovery_ms, permits, successes, window, slow, predicate, max_wait_ms }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn breaker_matches_the_reference_model(cfg in cfg(), ops in prop::collection::vec(op(), 1..32)) {
        run(cfg, ops)?;
    }
}
