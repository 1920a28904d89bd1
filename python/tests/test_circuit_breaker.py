"""The spec's circuit breaker examples, with `from elf_resilience import ...`."""

import asyncio
import traceback

import pytest

from elf_resilience import (
    CircuitBreaker,
    CircuitBreakerOpen,
    ManualClock,
    get_all_circuit_breakers,
    get_circuit_breaker,
    with_circuit_breaker,
)


class APIError(Exception):
    pass


class FlakyAPI:
    def __init__(self, failures):
        self.failures = failures
        self.calls = 0

    def chat_completion(self, prompt):
        self.calls += 1
        if self.calls <= self.failures:
            raise APIError("503 from provider")
        return f"answer to {prompt}"


def fallback_service(prompt):
    return f"fallback answer to {prompt}"


def test_manual_circuit_breaker_falls_back_once_open():
    api, prompt = FlakyAPI(failures=100), "hello"
    cb = CircuitBreaker(
        failure_threshold=5,      # Open after 5 failures
        recovery_timeout=60,      # Try recovery after 60 seconds
        expected_exception=APIError,
        name="OpenAI-API",
    )
    results = []
    for _ in range(6):
        try:
            result = cb.call(lambda: api.chat_completion(prompt))
        except Exception as e:
            if "Circuit breaker 'OpenAI-API' is OPEN" in str(e):
                result = fallback_service(prompt)
            else:
                result = None
        results.append(result)
    assert results == [None] * 5 + ["fallback answer to hello"]
    assert api.calls == 5, "the open breaker did not call the API"

    stats = cb.get_stats()
    assert stats["state"] == "OPEN"
    assert stats["success_rate"] == 0.0
    assert stats["rejected_calls"] == 1
    assert stats["total_calls"] == 6
    assert stats["name"] == "OpenAI-API"


def test_rejection_is_a_typed_exception_with_retry_after():
    clock = ManualClock()
    cb = CircuitBreaker(name="typed", failure_threshold=1, recovery_timeout=60, clock=clock)
    cb.trip()
    clock.advance(15)
    with pytest.raises(CircuitBreakerOpen) as info:
        cb.call(lambda: "not called")
    assert info.value.name == "typed"
    assert info.value.retry_after == pytest.approx(45.0)
    assert str(info.value) == "Circuit breaker 'typed' is OPEN; retry in 45.0s"


def test_only_expected_exceptions_count():
    cb = CircuitBreaker(failure_threshold=1, expected_exception=APIError, name="expected-only")

    def bad_request():
        raise ValueError("400")

    with pytest.raises(ValueError):
        cb.call(bad_request)
    assert cb.state == "CLOSED"
    assert cb.get_stats()["ignored_calls"] == 1
    with pytest.raises(APIError):
        cb.call(FlakyAPI(failures=1).chat_completion, "hi")
    assert cb.state == "OPEN"


def test_the_callers_exception_propagates_unchanged():
    cb = CircuitBreaker(name="propagates")
    err = APIError("the very object")

    def provider_call():
        raise err

    with pytest.raises(APIError) as info:
        cb.call(provider_call)
    assert info.value is err
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "provider_call" in frames
    assert cb.get_stats()["failed_calls"] == 1


def test_args_and_kwargs_reach_the_call():
    cb = CircuitBreaker(name="args")
    assert cb.call(lambda a, b=0: a + b, 2, b=3) == 5


def test_trip_and_reset():
    cb = CircuitBreaker(name="manual-control")
    cb.trip()   # Manually open circuit
    assert cb.state == "OPEN"
    with pytest.raises(CircuitBreakerOpen):
        cb.call(lambda: 1)
    cb.reset()  # Manually close circuit
    assert cb.state == "CLOSED"
    assert cb.call(lambda: 1) == 1


def test_recovers_after_the_recovery_timeout_on_a_manual_clock():
    clock = ManualClock()
    cb = CircuitBreaker(name="recovers", failure_threshold=1, recovery_timeout=30, clock=clock)
    with pytest.raises(ZeroDivisionError):
        cb.call(lambda: 1 / 0)
    clock.advance(29.9)
    with pytest.raises(CircuitBreakerOpen):
        cb.call(lambda: "too early")
    clock.advance(0.2)
    assert cb.call(lambda: "probe") == "probe"
    assert cb.state == "CLOSED"
    assert cb.get_stats()["time_in_state"] == 0.0


def test_chaos_test_breaker_opens_after_one_failure():
    cb = CircuitBreaker(name="test-breaker", failure_threshold=1)
    try:
        cb.call(lambda: 1 / 0)  # Fail once
    except:  # noqa: E722 - as in the spec
        pass

    # Should be open now
    with pytest.raises(Exception, match="Circuit breaker 'test-breaker' is OPEN"):
        cb.call(lambda: "This should fail")


def test_call_async_deploys_through_the_breaker():
    class Pipeline:
        def __init__(self):
            self.deployed = []

        async def deploy_team(self, team_name):
            await asyncio.sleep(0)
            self.deployed.append(team_name)
            return f"{team_name} deployed"

    pipeline = Pipeline()

    async def deploy_team_with_resilience(team_name):
        cb = CircuitBreaker(name=f"deploy-{team_name}")
        return await cb.call_async(pipeline.deploy_team, team_name=team_name)

    assert asyncio.run(deploy_team_with_resilience("sales")) == "sales deployed"
    assert pipeline.deployed == ["sales"]
    assert get_circuit_breaker("deploy-sales").get_stats()["successful_calls"] == 1


def test_call_async_counts_failures_and_rejects_when_open():
    cb = CircuitBreaker(name="async-fails", failure_threshold=2)
    err = APIError("down")
    calls = []

    async def fetch():
        calls.append(1)
        raise err

    async def scenario():
        for _ in range(2):
            with pytest.raises(APIError) as info:
                await cb.call_async(fetch)
            assert info.value is err
        with pytest.raises(CircuitBreakerOpen):
            await cb.call_async(fetch)

    asyncio.run(scenario())
    assert len(calls) == 2
    assert cb.get_stats()["failed_calls"] == 2


def test_decorator_on_a_sync_function():
    calls = []

    @with_circuit_breaker(failure_threshold=3, recovery_timeout=30)
    def call_external_api(endpoint: str):
        calls.append(endpoint)
        raise ConnectionError(endpoint)

    for _ in range(3):
        with pytest.raises(ConnectionError):
            call_external_api("https://api.invalid/x")
    with pytest.raises(CircuitBreakerOpen, match="call_external_api' is OPEN; retry in 30"):
        call_external_api("https://api.invalid/x")
    assert len(calls) == 3
    assert call_external_api.circuit_breaker.get_stats()["rejected_calls"] == 1
    assert call_external_api.__name__ == "call_external_api"


def test_decorator_on_an_async_function():
    @with_circuit_breaker(failure_threshold=1)
    async def flaky():
        raise TimeoutError("slow provider")

    async def scenario():
        with pytest.raises(TimeoutError):
            await flaky()
        with pytest.raises(CircuitBreakerOpen):
            await flaky()

    asyncio.run(scenario())
    assert asyncio.iscoroutinefunction(flaky)


def test_dashboard_lists_every_breaker():
    CircuitBreaker(name="dash-a").trip()
    CircuitBreaker(name="dash-b")
    breakers = get_all_circuit_breakers()
    by_name = {b.get_stats()["name"]: b for b in breakers}
    assert {"dash-a", "dash-b"} <= set(by_name)
    lines = []
    for breaker in breakers:
        stats = breaker.get_stats()
        lines.append(f"{stats['name']}: {stats['state']} {stats['total_calls']} total, "
                     f"{stats['rejected_calls']} rejected, {stats['success_rate']}%, {stats['time_in_state']}")
    assert any(line.startswith("dash-a: OPEN 0 total, 0 rejected, 100.0%") for line in lines)
    assert by_name["dash-b"].state == "CLOSED"


def test_rejections_pickle_for_other_processes():
    import pickle

    cb = CircuitBreaker(name="pickled")
    cb.trip()
    with pytest.raises(CircuitBreakerOpen) as info:
        cb.call(lambda: None)
    assert CircuitBreakerOpen.__module__ == "elf_resilience._native"
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, CircuitBreakerOpen)
    assert str(again) == str(info.value)


def _caller_frame():
    import sys

    return sys._getframe(1).f_code.co_name


def test_a_guarded_call_runs_no_python_frame_between_caller_and_function():
    cb = CircuitBreaker(name="no-frames")
    guarded = with_circuit_breaker(name="no-frames-decorated")(_caller_frame)

    def caller():
        return cb.call(_caller_frame), guarded()

    assert caller() == ("caller", "caller"), "calls go straight into the native breaker"


@with_circuit_breaker(name="module-level-guarded")
def _module_level(x, *, y=1):
    """Adds."""
    return x + y


class _Client:
    def __init__(self, base):
        self.base = base

    @with_circuit_breaker(failure_threshold=1, name="client-get")
    def get(self, path):
        """Fetches."""
        return self.base + path


def test_a_guarded_function_keeps_its_attributes_binds_as_a_method_and_pickles():
    import inspect
    import pickle

    assert (_module_level.__name__, _module_level.__doc__) == ("_module_level", "Adds.")
    assert _module_level.__wrapped__.__name__ == "_module_level"
    assert str(inspect.signature(_module_level)) == "(x, *, y=1)"
    assert _module_level(2, y=3) == 5
    assert pickle.loads(pickle.dumps(_module_level)) is _module_level
    client = _Client("https://api.invalid")
    assert client.get("/v1") == "https://api.invalid/v1"
    assert _Client.get.circuit_breaker.get_stats()["successful_calls"] == 1
    assert _Client.__dict__["get"].__get__(None, _Client) is _Client.__dict__["get"]
