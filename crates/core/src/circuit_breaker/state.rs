//! The breaker's state machine: a packed state word and a pure decision function.
//!
//! Everything here is a plain function of `(state, event, now)`; the breaker applies the
//! decisions to one `AtomicU64` with a CAS loop.

use serde::Serialize;
use std::fmt;

/// The state of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CircuitState {
    /// Normal operation: calls pass and their outcomes are counted.
    Closed,
    /// Too many failures: calls are rejected until the recovery timeout has passed.
    Open,
    /// Testing recovery: a limited number of probe calls pass.
    HalfOpen,
    /// Opened by hand with [`force_open`](super::CircuitBreaker::force_open): rejects until reset.
    ForcedOpen,
    /// Switched off with [`disable`](super::CircuitBreaker::disable): every call passes, nothing trips.
    Disabled,
}

impl CircuitState {
    /// All states, in the order of their numeric codes (`as_code`).
    pub const ALL: [CircuitState; 5] = [
        CircuitState::Closed,
        CircuitState::Open,
        CircuitState::HalfOpen,
        CircuitState::ForcedOpen,
        CircuitState::Disabled,
    ];

    /// A stable numeric code (0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled), the
    /// value of the `elf_circuit_breaker_state` gauge.
    pub const fn as_code(self) -> u8 {
        match self {
            CircuitState::Closed => 0,
            CircuitState::Open => 1,
            CircuitState::HalfOpen => 2,
            CircuitState::ForcedOpen => 3,
            CircuitState::Disabled => 4,
        }
    }

    /// The upper-case name used in messages: `CLOSED`, `OPEN`, `HALF_OPEN`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "CLOSED",
            CircuitState::Open => "OPEN",
            CircuitState::HalfOpen => "HALF_OPEN",
            CircuitState::ForcedOpen => "FORCED_OPEN",
            CircuitState::Disabled => "DISABLED",
        }
    }

    /// The lower-case name used in metric labels and JSON: `closed`, `open`, `half_open`,
    /// `forced_open`, `disabled`.
    ///
    /// ```
    /// use elf_resilience_core::CircuitState;
    /// assert_eq!(CircuitState::HalfOpen.as_label(), "half_open");
    /// ```
    pub const fn as_label(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
            CircuitState::ForcedOpen => "forced_open",
            CircuitState::Disabled => "disabled",
        }
    }

    /// True for the states that reject calls without a free probe slot.
    pub const fn is_open(self) -> bool {
        matches!(self, CircuitState::Open | CircuitState::ForcedOpen)
    }
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Largest counter kept in the state word (consecutive failures, probe counts).
pub(crate) const MAX_COUNT: u32 = 0xFFFF;
/// Largest deadline an open state can hold, in clock nanoseconds (about 73 years).
pub(crate) const MAX_DEADLINE: u64 = (1 << 61) - 1;
const STAY_MASK: u32 = (1 << 29) - 1;
/// The kind and first counter of a packed word: zero for a closed state with no failures.
const CLEAN_CLOSED_MASK: u64 = (0xFFFF << 3) | 0b111;

/// The unpacked state word.
///
/// `stay` tells apart two stays in the same state, so a permit from an earlier stay does not
/// count against a later one. An open state stores its deadline instead of a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Closed { stay: u32, failures: u32 },
    Open { until: u64 },
    HalfOpen { stay: u32, admitted: u32, succeeded: u32 },
    ForcedOpen { stay: u32 },
    Disabled { stay: u32 },
}

impl State {
    /// The public state this word stands for.
    pub(crate) const fn kind(self) -> CircuitState {
        match self {
            State::Closed { .. } => CircuitState::Closed,
            State::Open { .. } => CircuitState::Open,
            State::HalfOpen { .. } => CircuitState::HalfOpen,
            State::ForcedOpen { .. } => CircuitState::ForcedOpen,
            State::Disabled { .. } => CircuitState::Disabled,
        }
    }

    /// Packs into a word: 3 bits of kind, then two 16-bit counters and 29 bits of generation,
    /// or (open) 61 bits of deadline. The counters sit next to the kind, so that "closed with
    /// no failures" is a test of the low 19 bits.
    pub(crate) const fn pack(self) -> u64 {
        let (code, stay, a, b) = match self {
            State::Open { until } => return 1 | (until << 3),
            State::Closed { stay, failures } => (0, stay, failures, 0),
            State::HalfOpen { stay, admitted, succeeded } => (2, stay, admitted, succeeded),
            State::ForcedOpen { stay } => (3, stay, 0, 0),
            State::Disabled { stay } => (4, stay, 0, 0),
        };
        code | ((a as u64) << 3) | ((b as u64) << 19) | (((stay & STAY_MASK) as u64) << 35)
    }

    /// The inverse of [`State::pack`].
    pub(crate) const fn unpack(word: u64) -> State {
        let a = ((word >> 3) & 0xFFFF) as u32;
        let b = ((word >> 19) & 0xFFFF) as u32;
        let stay = (word >> 35) as u32;
        match word & 0b111 {
            0 => State::Closed { stay, failures: a },
            1 => State::Open { until: word >> 3 },
            2 => State::HalfOpen { stay, admitted: a, succeeded: b },
            3 => State::ForcedOpen { stay },
            _ => State::Disabled { stay },
        }
    }

    /// True if `word` is a closed or disabled state: calls pass without a state change.
    #[inline]
    pub(crate) const fn admits_freely(word: u64) -> bool {
        matches!(word & 0b111, 0 | 4)
    }

    /// The deadline of `word` if it is an open state.
    #[inline]
    pub(crate) const fn open_until(word: u64) -> Option<u64> {
        if word & 0b111 == 1 { Some(word >> 3) } else { None }
    }

    /// True if `word` is a closed state with no failures counted.
    #[inline]
    pub(crate) const fn is_clean_closed(word: u64) -> bool {
        word & CLEAN_CLOSED_MASK == 0
    }

    /// The state a fresh breaker starts in.
    pub(crate) const fn initial() -> State {
        State::Closed { stay: 0, failures: 0 }
    }

    /// True if `other` is the same stay (same kind and generation) as `self`.
    const fn same_stay(self, other: State) -> bool {
        match (self, other) {
            (State::Closed { stay: a, .. }, State::Closed { stay: b, .. }) => a == b,
            (State::HalfOpen { stay: a, .. }, State::HalfOpen { stay: b, .. }) => a == b,
            _ => false,
        }
    }
}

/// How an admitted call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Counted as a success.
    Success,
    /// Counted as a failure.
    Failure,
    /// Not counted (an error the breaker does not track); a half-open slot is returned.
    Ignored,
}

/// What happens to the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A caller asks to be let through.
    Acquire,
    /// A call admitted in state `permit` ended; `rate_exceeded` says the sliding window's
    /// failure or slow-call rate crossed its threshold with this outcome.
    Finish { permit: State, outcome: Outcome, rate_exceeded: bool },
    /// Open now for the recovery timeout.
    Trip,
    /// Open now for this many nanoseconds (never shortening an open state's deadline).
    OpenFor(u64),
    /// Close and forget the failure count.
    Reset,
    /// Open until reset.
    ForceOpen,
    /// Pass every call until reset.
    Disable,
}

/// The thresholds the state machine needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub failure_threshold: u32,
    pub recovery_nanos: u64,
    pub half_open_permits: u32,
    pub half_open_successes: u32,
    /// Longest stay half-open before the breaker reopens (`None`: no limit).
    pub half_open_max_nanos: Option<u64>,
}

/// The half-open deadline of a state that is not half-open, or has no time limit.
pub(crate) const NO_DEADLINE: u64 = u64::MAX;

/// The answer to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Let through; the permit carries the state it was admitted in.
    Admitted(State),
    /// Rejected; a probe is allowed after `retry_after` nanoseconds (None: not known).
    Rejected { retry_after: Option<u64> },
    /// The event was applied (or was stale and changed nothing).
    Done,
}

/// A decision: the next state (None: unchanged) and the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub next: Option<State>,
    pub verdict: Verdict,
}

impl Decision {
    const fn keep(verdict: Verdict) -> Self {
        Decision { next: None, verdict }
    }
    const fn to(next: State, verdict: Verdict) -> Self {
        Decision { next: Some(next), verdict }
    }
}

/// True if deciding `event` in `state` may need the current time.
pub(crate) const fn needs_clock(state: State, event: Event, lim: &Limits) -> bool {
    let timed_half_open = matches!(state, State::HalfOpen { .. }) && lim.half_open_max_nanos.is_some();
    match event {
        Event::Acquire => matches!(state, State::Open { .. }) || timed_half_open,
        Event::Finish { outcome, rate_exceeded, .. } => {
            rate_exceeded || matches!(outcome, Outcome::Failure) || timed_half_open
        }
        Event::Trip | Event::OpenFor(_) => true,
        Event::Reset | Event::ForceOpen | Event::Disable => false,
    }
}

/// When a half-open stay entered at `now` times out ([`NO_DEADLINE`] if it does not).
pub(crate) fn half_open_deadline(now: u64, lim: &Limits) -> u64 {
    lim.half_open_max_nanos.map_or(NO_DEADLINE, |max| now.saturating_add(max).min(NO_DEADLINE - 1))
}

/// The pure transition function. `fresh_stay` is the generation to give a newly entered state;
/// `half_open_until` is when the current half-open stay times out ([`NO_DEADLINE`] if it does
/// not, or the state is not half-open).
pub(crate) fn decide(
    state: State,
    event: Event,
    now: u64,
    lim: &Limits,
    fresh_stay: u32,
    half_open_until: u64,
) -> Decision {
    let open = |nanos: u64| State::Open { until: now.saturating_add(nanos).min(MAX_DEADLINE) };
    let probing = matches!(event, Event::Acquire | Event::Finish { .. });
    let timed_out = half_open_until != NO_DEADLINE && now >= half_open_until;
    if probing && timed_out && matches!(state, State::HalfOpen { .. }) {
        return reopen_timed_out(event, now, open(lim.recovery_nanos));
    }
    match event {
        Event::Acquire => acquire(state, now, lim, fresh_stay),
        Event::Finish { permit, outcome, rate_exceeded } => {
            if !permit.same_stay(state) {
                return Decision::keep(Verdict::Done);
            }
            let next = finish(state, outcome, rate_exceeded, lim, fresh_stay, open(lim.recovery_nanos));
            Decision { next, verdict: Verdict::Done }
        }
        Event::Trip => Decision::to(open(lim.recovery_nanos), Verdict::Done),
        Event::OpenFor(nanos) => match (state, open(nanos)) {
            (State::Open { until }, State::Open { until: new }) if until >= new => {
                Decision::keep(Verdict::Done)
            }
            (_, next) => Decision::to(next, Verdict::Done),
        },
        Event::Reset => match state {
            State::Closed { stay, .. } => Decision::to(State::Closed { stay, failures: 0 }, Verdict::Done),
            _ => Decision::to(State::Closed { stay: fresh_stay, failures: 0 }, Verdict::Done),
        },
        Event::ForceOpen | Event::Disable if state.kind() == kind_of(event) => Decision::keep(Verdict::Done),
        Event::ForceOpen => Decision::to(State::ForcedOpen { stay: fresh_stay }, Verdict::Done),
        Event::Disable => Decision::to(State::Disabled { stay: fresh_stay }, Verdict::Done),
    }
}

/// A half-open stay that outlived its time limit reopens: a caller asking to pass is rejected,
/// a probe reporting late is stale.
fn reopen_timed_out(event: Event, now: u64, reopened: State) -> Decision {
    match (event, reopened) {
        (Event::Acquire, State::Open { until }) => {
            Decision::to(reopened, Verdict::Rejected { retry_after: Some(until - now) })
        }
        _ => Decision::to(reopened, Verdict::Done),
    }
}

/// The state a manual override event leads to.
const fn kind_of(event: Event) -> CircuitState {
    match event {
        Event::ForceOpen => CircuitState::ForcedOpen,
        Event::Disable => CircuitState::Disabled,
        Event::Reset => CircuitState::Closed,
        _ => CircuitState::Open,
    }
}

fn acquire(state: State, now: u64, lim: &Limits, fresh_stay: u32) -> Decision {
    match state {
        State::Closed { .. } | State::Disabled { .. } => Decision::keep(Verdict::Admitted(state)),
        State::Open { until } if now < until => {
            Decision::keep(Verdict::Rejected { retry_after: Some(until - now) })
        }
        State::Open { .. } => {
            let next = State::HalfOpen { stay: fresh_stay, admitted: 1, succeeded: 0 };
            Decision::to(next, Verdict::Admitted(next))
        }
        State::HalfOpen { stay, admitted, succeeded } if admitted < lim.half_open_permits => {
            let next = State::HalfOpen { stay, admitted: admitted + 1, succeeded };
            Decision::to(next, Verdict::Admitted(next))
        }
        State::HalfOpen { .. } | State::ForcedOpen { .. } => {
            Decision::keep(Verdict::Rejected { retry_after: None })
        }
    }
}

/// The next state after an outcome in the same stay it was admitted in.
fn finish(
    state: State,
    outcome: Outcome,
    rate_exceeded: bool,
    lim: &Limits,
    fresh_stay: u32,
    opened: State,
) -> Option<State> {
    match (state, outcome) {
        (State::Closed { .. }, _) if rate_exceeded => Some(opened),
        (State::Closed { failures: 0, .. }, Outcome::Success) => None,
        (State::Closed { stay, .. }, Outcome::Success) => Some(State::Closed { stay, failures: 0 }),
        (State::Closed { stay, failures }, Outcome::Failure) => {
            let failures = (failures + 1).min(MAX_COUNT);
            Some(if failures >= lim.failure_threshold { opened } else { State::Closed { stay, failures } })
        }
        (State::HalfOpen { .. }, Outcome::Failure) => Some(opened),
        (State::HalfOpen { stay, admitted, succeeded }, Outcome::Success) => {
            let succeeded = succeeded + 1;
            Some(if succeeded >= lim.half_open_successes {
                State::Closed { stay: fresh_stay, failures: 0 }
            } else {
                State::HalfOpen { stay, admitted, succeeded }
            })
        }
        (State::HalfOpen { stay, admitted, succeeded }, Outcome::Ignored) => {
            Some(State::HalfOpen { stay, admitted: admitted.saturating_sub(1), succeeded })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
