"""The spec's retry policies, with `from elf_resilience import ...`. No test sleeps long:
waits are recorded through `sleep=` (or `time.sleep` patched), or are milliseconds."""

import asyncio
import time

import pytest

from elf_resilience import (
    AdaptiveBackoff,
    ExponentialBackoff,
    FallbackProtocol,
    FallbackStrategy,
    FibonacciBackoff,
    FixedDelay,
    LinearBackoff,
    RequestQueued,
    ResourceManager,
    ResourceStatus,
    ResourceType,
    with_fallback,
    with_retry,
)


def test_simple_retry_with_exponential_backoff(monkeypatch):
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)
    outcomes = iter([True, True, False])  # fail, fail, succeed

    @with_retry(max_retries=3)
    def flaky_operation():
        if next(outcomes):
            raise Exception("Random failure")
        return "Success"

    assert flaky_operation() == "Success"
    assert waits == [1.0, 2.0]


def test_gives_up_after_max_retries_with_the_last_exception():
    waits, errors = [], [RuntimeError(f"failure {i}") for i in range(4)]
    attempts = iter(errors)

    @with_retry(max_retries=3, sleep=waits.append)
    def always_fails():
        raise next(attempts)

    with pytest.raises(RuntimeError) as info:
        always_fails()
    assert info.value is errors[3]
    assert waits == [1.0, 2.0, 4.0]


def test_only_matching_exceptions_are_retried():
    calls = []

    @with_retry(max_retries=3, retry_on=ConnectionError, sleep=lambda _: None)
    def bad_request():
        calls.append(1)
        raise ValueError("400")

    with pytest.raises(ValueError):
        bad_request()
    assert len(calls) == 1


def test_custom_exponential_policy_with_jitter():
    policy = ExponentialBackoff(
        max_retries=5,
        base_delay=0.5,      # Start with 0.5s
        multiplier=3,        # Triple each time
        max_delay=30,        # Cap at 30s
        jitter=True,         # Add randomization
    )
    delays = policy.delays()
    assert len(delays) == 5
    for got, full in zip(delays, [0.5, 1.5, 4.5, 13.5, 30.0]):
        assert full / 2 <= got <= full
    assert ExponentialBackoff(max_retries=5, base_delay=0.5, multiplier=3, max_delay=30).delays() == [
        0.5, 1.5, 4.5, 13.5, 30.0,
    ]
    seeded = [ExponentialBackoff(max_retries=5, jitter=True, seed=7).delays() for _ in range(2)]
    assert seeded[0] == seeded[1]


def test_async_retry_with_a_custom_policy():
    waits = []

    async def record(delay):
        waits.append(delay)

    policy = ExponentialBackoff(max_retries=5, base_delay=0.5, multiplier=3, max_delay=30)
    answers = iter([ConnectionError("reset"), ConnectionError("reset"), "fetched"])

    class ExternalAPI:
        async def fetch(self):
            answer = next(answers)
            if isinstance(answer, Exception):
                raise answer
            return answer

    external_api = ExternalAPI()

    @with_retry(backoff=policy, sleep=record)
    async def api_call():
        return await external_api.fetch()

    assert asyncio.run(api_call()) == "fetched"
    assert waits == [0.5, 1.5]


def test_async_waits_leave_the_event_loop_running():
    ticks = []
    seen_at_attempt = []

    @with_retry(backoff=FixedDelay(max_retries=2, delay=0.01))
    async def flaky():
        seen_at_attempt.append(len(ticks))
        if len(seen_at_attempt) < 3:
            raise ConnectionError("reset")
        return "ok"

    async def ticker():
        while True:
            ticks.append(1)
            await asyncio.sleep(0.001)

    async def scenario():
        task = asyncio.ensure_future(ticker())
        try:
            return await asyncio.wait_for(flaky(), timeout=10)
        finally:
            task.cancel()

    assert asyncio.run(scenario()) == "ok"
    first, second, third = seen_at_attempt
    assert first < second < third, "the ticker ran during each wait"


def test_real_sleeps_are_the_schedules():
    calls = []

    @with_retry(backoff=FixedDelay(max_retries=2, delay=0.001))
    def flaky():
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionError("reset")
        return len(calls)

    assert flaky() == 3
    assert calls[2] - calls[0] >= 0.002


def test_the_other_schedules():
    assert LinearBackoff(max_retries=4).delays() == [1.0, 2.0, 3.0, 4.0]
    assert LinearBackoff(max_retries=3, base_delay=1, increment=0.5, max_delay=1.8).delays() == [1.0, 1.5, 1.8]
    assert FixedDelay(max_retries=3, delay=2).delays() == [2.0, 2.0, 2.0]
    assert FibonacciBackoff(max_retries=5).delays() == [1.0, 1.0, 2.0, 3.0, 5.0]


def test_schedules_are_fresh_for_each_call():
    policy = FixedDelay(max_retries=1, delay=0.5)
    first, second = policy.schedule(), policy.schedule()
    assert list(first) == [0.5]
    assert list(first) == []
    assert list(second) == [0.5]


def test_bad_settings_are_rejected_when_built():
    with pytest.raises(ValueError, match="multiplier"):
        ExponentialBackoff(multiplier=0.5)
    with pytest.raises(ValueError, match="base_delay"):
        ExponentialBackoff(base_delay=-1)


def test_adaptive_backoff_that_learns():
    adaptive = AdaptiveBackoff(
        initial_delay=1.0,
        success_reduction=0.5,   # Halve delay on success
        failure_increase=2.0,    # Double delay on failure
    )
    outcomes = iter([False, False, True, False, True, True, True, True, True, True])

    def api_call_with_adaptive_retry():
        if not next(outcomes):
            raise ConnectionError("rate limited")
        return "ok"

    seen = []
    for i in range(10):
        try:
            api_call_with_adaptive_retry()
            adaptive.record_success()  # Reduces future delays
        except:  # noqa: E722 - as in the spec
            adaptive.record_failure()  # Increases future delays
        seen.append(adaptive.current_delay)
    assert seen[:5] == [2.0, 4.0, 2.0, 4.0, 2.0]
    assert seen[-1] == 0.1, "floored at min_delay"
    assert adaptive.delays() == [0.1, 0.1, 0.1]


def test_adaptive_backoff_drives_a_retry():
    waits = []
    adaptive = AdaptiveBackoff(initial_delay=1.0, max_retries=2)
    adaptive.record_failure()

    @with_retry(backoff=adaptive, sleep=waits.append)
    def down():
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        down()
    assert waits == [2.0, 2.0]


def test_a_call_that_works_first_time_starts_no_schedule():
    class Counting:
        made = 0

        def schedule(self):
            Counting.made += 1
            return iter([0.0])

    outcomes = [ConnectionError("blip"), "ok", "ok"]

    def flaky():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    retried = with_retry(backoff=Counting(), sleep=lambda _: None)(flaky)
    assert retried() == "ok" and Counting.made == 1, "a failure starts a schedule"
    assert retried() == "ok" and Counting.made == 1, "a call that works allocates none"


def test_a_queued_call_is_not_retried():
    waits, runs = [], []
    rm = ResourceManager(default_probes=False, refresh=False)
    protocol = FallbackProtocol(resource_manager=rm)
    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.EXHAUSTED)

    @with_retry(max_retries=3, sleep=waits.append)
    @with_fallback(ResourceType.MEMORY, strategies=[FallbackStrategy.QUEUE_REQUEST], protocol=protocol)
    def load(path):
        runs.append(path)

    with pytest.raises(RequestQueued) as info:
        load("/data/big.csv")
    assert waits == [], "queued once, not once per retry"
    rm.clear_resource_status()
    assert protocol.process_queue()["delivered"] == 1
    assert runs == ["/data/big.csv"]
    assert protocol.ticket_status(info.value.ticket) == "done"
