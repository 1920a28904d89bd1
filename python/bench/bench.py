"""Per-call cost of elf_resilience beside pybreaker and tenacity, from Python.

    pip install pybreaker tenacity          # into the venv that has elf_resilience
    python python/bench/bench.py [--number N]

Each case is timed once with `timeit` (N calls, default 200 000) after a warm-up, and printed
as nanoseconds per call with the ratio ours / theirs. The wrapped function returns at once,
so the figures are the libraries' own overhead (plus one Python call). Build the package with
`maturin develop --release` first: a debug build is several times slower.
"""

import argparse
import sys
import timeit

import pybreaker
import tenacity

import elf_resilience as er


def _ok() -> int:
    return 1


def _cases():
    """(name, ours, theirs, theirs' library): each a no-argument callable making one call."""
    ours_cb = er.CircuitBreaker(name="bench-call", failure_threshold=5, recovery_timeout=60)
    their_cb = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    ours_decorated = er.with_circuit_breaker(failure_threshold=5, name="bench-decorated")(_ok)
    their_decorated = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)(_ok)
    ours_retry = er.with_retry(max_retries=3)(_ok)
    their_retry = tenacity.retry(
        stop=tenacity.stop_after_attempt(4),
        wait=tenacity.wait_exponential(multiplier=1, max=60),
        reraise=True,
    )(_ok)
    return [
        ("closed breaker, decorated", ours_decorated, their_decorated, "pybreaker"),
        ("closed breaker, cb.call(f)", lambda: ours_cb.call(_ok), lambda: their_cb.call(_ok), "pybreaker"),
        ("retry, first try ok", ours_retry, their_retry, "tenacity"),
    ]


def _ns_per_call(func, number: int) -> float:
    func()  # warm-up: first-call setup is not per-call cost
    return timeit.timeit(func, number=number) / number * 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000, help="calls per case")
    args = parser.parse_args()
    bare = _ns_per_call(_ok, args.number)
    print(f"Python {sys.version.split()[0]}, pybreaker {_version('pybreaker')}, tenacity {_version('tenacity')}")
    print(f"{args.number} calls per case; a bare call of the function: {bare:.0f} ns")
    print()
    print(f"| {'case':28} | {'elf_resilience':>14} | {'peer':>9} | {'peer ns':>8} | {'ours / peer':>11} |")
    print(f"|{'-' * 30}|{'-' * 15}:|{'-' * 10}-|{'-' * 9}:|{'-' * 12}:|")
    for name, ours, theirs, peer in _cases():
        a, b = _ns_per_call(ours, args.number), _ns_per_call(theirs, args.number)
        print(f"| {name:28} | {a:11.0f} ns | {peer:9} | {b:8.0f} | {a / b:11.2f} |")
    return 0


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001 - only for the header line
        return "?"


if __name__ == "__main__":
    sys.exit(main())
