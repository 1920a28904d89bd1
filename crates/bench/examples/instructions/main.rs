//! Instruction counts of the hot paths beside their peers, for `callgrind.sh`.
//!
//! `instructions list` prints each case with the peers its row is compared with;
//! `instructions run CASE N` builds the case's policy, calls it once, then runs its call `N`
//! times inside [`callgrind_measured`], the one function `callgrind.sh` collects. Every case
//! calls the same `#[inline(never)]` operation. The script runs each case at two `N` and divides
//! the difference of the counts by the difference of the `N`s, so setup and one-off first-call
//! work drop out.
//!
//! To add a case: one small function in `breaker.rs` or `others.rs` and one row in [`CASES`].

mod breaker;
mod others;

use std::hint::black_box;
use std::process::ExitCode;

/// One benchmark case: its name, the cases its row is compared with, and how it runs `n` calls.
struct Case {
    name: &'static str,
    peers: &'static [&'static str],
    run: fn(u64),
}

const fn case(name: &'static str, peers: &'static [&'static str], run: fn(u64)) -> Case {
    Case { name, peers, run }
}

const CONSECUTIVE_PEERS: &[&str] = &["breaker_closed/failsafe", "breaker_closed/recloser"];
const COUNT_PEER: &[&str] = &["breaker_count_window/recloser"];
const OPEN_PEERS: &[&str] = &["breaker_open/failsafe", "breaker_open/recloser"];

/// Every case, in the order of the table.
const CASES: &[Case] = &[
    case("breaker_closed/bare_call", &[], others::bare_call),
    case("breaker_closed/elf", CONSECUTIVE_PEERS, breaker::closed_elf),
    case("breaker_closed/failsafe", &[], breaker::closed_failsafe),
    case("breaker_closed/recloser", &[], breaker::closed_recloser),
    case("breaker_count_window/elf", COUNT_PEER, breaker::count_window_elf),
    case("breaker_count_window/recloser", &[], breaker::count_window_recloser),
    case("breaker_time_window/elf", COUNT_PEER, breaker::time_window_elf),
    case("breaker_time_window_slow_call/elf", COUNT_PEER, breaker::time_window_slow_elf),
    case("clock_floor/system_clock_now", &[], others::system_clock_now),
    case("breaker_open/elf", OPEN_PEERS, breaker::open_elf),
    case("breaker_open/failsafe", &[], breaker::open_failsafe),
    case("breaker_open/recloser", &[], breaker::open_recloser),
    case("rate_limit_allowed/elf_quanta", &["rate_limit_allowed/governor_quanta"], others::allowed_elf),
    case("rate_limit_allowed/governor_quanta", &[], others::allowed_governor),
    case("rate_limit_denied/elf_quanta", &["rate_limit_denied/governor_quanta"], others::denied_elf),
    case("rate_limit_denied/governor_quanta", &[], others::denied_governor),
    case("retry_first_ok/elf", &["retry_first_ok/backon"], others::retry_elf),
    case("retry_first_ok/backon", &[], others::retry_backon),
    case("pipeline/bare_op", &[], others::pipeline_bare_op),
    case("pipeline/full_pipeline", &["pipeline/bare_op"], others::pipeline_full),
];

/// The operation every case calls: `Ok` of an opaque value, never inlined into its caller.
#[inline(never)]
fn op() -> Result<u64, ()> {
    elf_resilience_bench::ok()
}

/// Calls `f` once, so that first-call work (lazy statics, the clock's calibration) is done,
/// then `n` times inside [`callgrind_measured`]. Every case's call goes through the same
/// opaque `dyn FnMut`, so no case is inlined into the loop and the harness costs every case the
/// same (the `bare_call` row shows it).
fn measure<R>(n: u64, mut f: impl FnMut() -> R) {
    let f: &mut dyn FnMut() -> R = black_box(&mut f);
    black_box(f());
    callgrind_measured(n, f);
}

/// Runs `f` `n` times. `callgrind.sh` counts the instructions executed inside this function
/// only (`--toggle-collect`), so it must keep its name and never be inlined.
#[inline(never)]
fn callgrind_measured<R>(n: u64, f: &mut dyn FnMut() -> R) {
    for _ in 0..n {
        black_box(f());
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["list"] => {
            for c in CASES {
                let peers = if c.peers.is_empty() { "-".to_owned() } else { c.peers.join(",") };
                println!("{} {peers}", c.name);
            }
            ExitCode::SUCCESS
        }
        ["run", name, n] => match (CASES.iter().find(|c| c.name == *name), n.parse::<u64>()) {
            (Some(c), Ok(n)) => {
                (c.run)(n);
                ExitCode::SUCCESS
            }
            _ => usage(),
        },
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: instructions list | instructions run CASE N");
    ExitCode::FAILURE
}
