"""Breakers across os.fork(), multiprocessing (fork) and threads."""

import multiprocessing
import os
import sys
import threading

import pytest

from elf_resilience import CircuitBreaker, CircuitBreakerOpen, ManualClock, get_circuit_breaker

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _child_report(breaker, clock):
    """What a child sees: rejected while open, then a probe that closes it."""
    report = []
    try:
        breaker.call(lambda: "too early")
        report.append("admitted")
    except CircuitBreakerOpen as e:
        report.append(f"rejected:{e.name}")
    clock.advance(60)
    report.append(breaker.call(lambda: "probe"))
    report.append(breaker.state)
    report.append(str(breaker.get_stats()["rejected_calls"]))
    return report


def _opened_breaker(name):
    clock = ManualClock()
    breaker = CircuitBreaker(name=name, failure_threshold=2, recovery_timeout=60, clock=clock)
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            breaker.call(lambda: 1 / 0)
    assert breaker.state == "OPEN"
    return breaker, clock


def test_an_open_breaker_keeps_working_in_a_forked_child():
    breaker, clock = _opened_breaker("fork-child")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read)
            os.write(write, ",".join(_child_report(breaker, clock)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        seen = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert seen == "rejected:fork-child,probe,CLOSED,1"
    assert breaker.state == "OPEN", "the child's breaker is its own copy"


def _mp_child(name, queue):
    breaker = get_circuit_breaker(name)
    try:
        breaker.call(lambda: "too early")
        queue.put("admitted")
    except CircuitBreakerOpen as e:
        queue.put(str(e).split(";")[0])
    queue.put(breaker.get_stats()["failed_calls"])


@pytest.mark.skipif(sys.platform == "darwin", reason="fork start method is unsafe on macOS")
def test_an_open_breaker_keeps_working_under_multiprocessing_fork():
    _opened_breaker("mp-child")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_mp_child, args=("mp-child", queue))
    child.start()
    got = [queue.get(timeout=30), queue.get(timeout=30)]
    child.join(timeout=30)
    assert child.exitcode == 0
    assert got == ["Circuit breaker 'mp-child' is OPEN", 2]


def test_many_threads_count_exactly():
    breaker = CircuitBreaker(name="threads", failure_threshold=65535)
    threads, per_thread = 8, 500
    start = threading.Barrier(threads)

    def fail():
        raise ConnectionError("down")

    def worker():
        start.wait()
        for i in range(per_thread):
            if i % 2:
                breaker.call(lambda: None)
            else:
                with pytest.raises(ConnectionError):
                    breaker.call(fail)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    stats = breaker.get_stats()
    assert stats["total_calls"] == threads * per_thread
    assert stats["successful_calls"] == stats["failed_calls"] == threads * per_thread // 2
    assert stats["state"] == "CLOSED"


def test_threads_share_one_half_open_probe():
    clock = ManualClock()
    breaker = CircuitBreaker(name="probe-once", failure_threshold=1, recovery_timeout=10, clock=clock)
    breaker.trip()
    clock.advance(10)
    inside, release = threading.Event(), threading.Event()
    results = []

    def slow_probe():
        inside.set()
        release.wait(5)
        return "probe"

    prober = threading.Thread(target=lambda: results.append(breaker.call(slow_probe)))
    prober.start()
    assert inside.wait(5)
    with pytest.raises(CircuitBreakerOpen, match="half-open"):
        breaker.call(lambda: "second caller")
    release.set()
    prober.join()
    assert results == ["probe"]
    assert breaker.state == "CLOSED"
