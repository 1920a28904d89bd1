"""Every code example of the Fallback Protocols Guide, nearly verbatim, as a test.

The import path is `from elf_resilience import ...`. What the guide leaves undefined
(`llm.invoke`, `db.execute`, `process_large_dataset`, `pipeline.deploy_team`, ...) is a small
stand-in defined here. Where our API differs, a one-line comment starting "differs:" says how.
Nothing waits for real longer than a few milliseconds: retries take `sleep=`, breakers a
`ManualClock`, and the fallback protocol a 1 ms retry backoff.
"""

import asyncio
import http.server
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest

from elf_resilience import (
    AdaptiveBackoff,
    CircuitBreaker,
    CircuitBreakerOpen,
    ExponentialBackoff,
    FallbackProtocol,
    FallbackStage,
    FallbackStrategy,
    FixedDelay,
    HealthCheck,
    HealthCheckResult,
    HealthMonitor,
    HealthStatus,
    ManualClock,
    RequestQueued,
    ResourceManager,
    ResourceStatus,
    ResourceType,
    current_attempt,
    get_all_circuit_breakers,
    with_circuit_breaker,
    with_fallback,
    with_retry,
)

logger = logging.getLogger("spec-examples")


@pytest.fixture
def rm():
    """A manager with no probes (everything reads UNKNOWN, i.e. usable until a test forces a
    reading) and the default protocol `@with_fallback` uses, over it, retrying after 1 ms."""
    manager = ResourceManager(default_probes=False, refresh=False)
    FallbackProtocol.set_default(
        FallbackProtocol(resource_manager=manager, retry_backoff=FixedDelay(max_retries=2, delay=0.001))
    )
    yield manager
    FallbackProtocol.set_default(None)


def no_wait(delays):
    """A `sleep=` for `with_retry` that records each wait instead of waiting."""

    async def sleep(seconds):
        delays.append(seconds)

    return sleep


def status_for(usage, warning, critical):
    """The status a usage gives under thresholds (the Rust `Threshold::status_for`)."""
    if usage >= 100:
        return ResourceStatus.EXHAUSTED
    if usage >= critical:
        return ResourceStatus.CRITICAL
    if usage >= warning:
        return ResourceStatus.WARNING
    return ResourceStatus.HEALTHY


# --- 1. Resource Manager -------------------------------------------------------------------


def test_resource_manager_usage_example(capsys):
    processed = []

    def process_large_dataset():
        processed.append("dataset")

    # Initialize manager
    rm = ResourceManager(refresh=False)  # differs: no live sampling (the CPU probe takes 250 ms)
    # test setup: no quota source is configured here, so gpt-4's quota and memory are forced
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.CRITICAL, 95.0, model="gpt-4")
    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.HEALTHY, 40.0)

    # Check resource status
    status, usage_pct = rm.check_resource(
        ResourceType.API_QUOTA,
        context={"team_name": "marketing-team", "model": "gpt-4"}
    )

    if status == ResourceStatus.CRITICAL:
        # Get alternative
        alt = rm.get_alternative_resource(
            ResourceType.API_QUOTA,
            context={"model": "gpt-4"}
        )
        print(f"Switch to: {alt['model']}")

    # Check if resource available
    if rm.can_use_resource(ResourceType.MEMORY):
        # Proceed with memory-intensive operation
        process_large_dataset()

    # Record usage for tracking
    rm.record_usage(
        ResourceType.API_QUOTA,
        amount=1000,  # tokens
        context={"team_name": "marketing-team"}
    )

    # Get comprehensive report
    report = rm.get_resource_report(hours=24)

    assert (status, usage_pct) == (ResourceStatus.CRITICAL, 95.0)
    assert capsys.readouterr().out == "Switch to: claude-3-opus\n"
    assert processed == ["dataset"]
    assert report["period_hours"] == 24.0
    assert report["usage_by_team"] == {"marketing-team": 1000.0}
    api = next(r for r in report["resources"] if r["resource_type"] == "api_quota")
    assert api["recorded_usage"] == 1000.0
    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.CRITICAL, 97.0)
    if rm.can_use_resource(ResourceType.MEMORY):
        process_large_dataset()
    assert processed == ["dataset"], "no memory-intensive work while memory is critical"


def test_resource_manager_thresholds_configuration():
    warning = {ResourceType.API_QUOTA: 70, ResourceType.MEMORY: 80, ResourceType.CPU: 85}
    critical = {ResourceType.API_QUOTA: 90, ResourceType.MEMORY: 95, ResourceType.CPU: 98}

    # Custom thresholds
    rm = ResourceManager(
        warning_thresholds={
            ResourceType.API_QUOTA: 70,    # Warn at 70% usage
            ResourceType.MEMORY: 80,       # Warn at 80% memory
            ResourceType.CPU: 85,          # Warn at 85% CPU
        },
        critical_thresholds={
            ResourceType.API_QUOTA: 90,    # Critical at 90%
            ResourceType.MEMORY: 95,       # Critical at 95%
            ResourceType.CPU: 98,          # Critical at 98%
        }
    )

    # Each live probe reading is classified by these thresholds, not the defaults.
    report = rm.get_resource_report()
    for resource_type in (ResourceType.MEMORY, ResourceType.CPU):
        entry = next(r for r in report["resources"] if r["resource_type"] == resource_type.value)
        assert entry["probes"], f"{resource_type} has a probe on this host"
        for probe in entry["probes"]:
            expected = status_for(probe["usage_percent"], warning[resource_type], critical[resource_type])
            assert ResourceStatus(probe["status"]) == expected, (resource_type, probe)
    with pytest.raises(ValueError, match="threshold"):
        ResourceManager(warning_thresholds={ResourceType.CPU: 99}, critical_thresholds={ResourceType.CPU: 98})


# --- 2. Fallback Protocols -----------------------------------------------------------------


class StandInLLM:
    """`llm.invoke`: answers naming the model it was asked for."""

    def __init__(self):
        self.calls = []

    async def invoke(self, prompt, model="gpt-4"):
        self.calls.append(model)
        await asyncio.sleep(0)
        return f"{model}: {prompt}"


def test_fallback_usage_with_decorators(rm):
    llm = StandInLLM()

    # Automatic fallback for API quota
    @with_fallback(ResourceType.API_QUOTA)
    async def call_llm(prompt: str, model: str = "gpt-4"):
        # This will automatically:
        # 1. Check quota before calling
        # 2. Switch to alternative model if needed
        # 3. Degrade service if necessary
        # 4. Queue request if all else fails
        response = await llm.invoke(prompt, model=model)
        return response

    assert asyncio.run(call_llm("hello")) == "gpt-4: hello"
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.EXHAUSTED, 100.0, model="gpt-4")
    assert asyncio.run(call_llm("hello")) == "claude-3-opus: hello", "switched to the alternative model"
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.EXHAUSTED, 100.0)  # every model
    with pytest.raises(RequestQueued) as queued:
        asyncio.run(call_llm("hello"))
    assert llm.calls == ["gpt-4", "claude-3-opus"], "nothing called while every quota is exhausted"
    assert FallbackProtocol.default().ticket_status(queued.value.ticket) == "pending"


def test_fallback_custom_strategy_order(rm):
    rows = {"SELECT name FROM teams": ["marketing", "sales"]}
    db_down = []
    calls = []

    def execute(query):
        calls.append(query)
        if db_down:
            raise ConnectionError("database is down")
        return rows[query]

    db = SimpleNamespace(execute=execute)

    # Custom strategy order
    @with_fallback(
        ResourceType.DATABASE,
        strategies=[
            FallbackStrategy.RETRY,
            FallbackStrategy.USE_CACHE,
            FallbackStrategy.CIRCUIT_BREAK
        ]
    )
    def query_database(query: str):
        return db.execute(query)

    assert query_database("SELECT name FROM teams") == ["marketing", "sales"]
    db_down.append(True)
    calls.clear()
    assert query_database("SELECT name FROM teams") == ["marketing", "sales"], "served from the cache"
    assert len(calls) == 3, "the first call and two retries reached the database"
    with pytest.raises(CircuitBreakerOpen, match="Circuit breaker 'database:default' is OPEN"):
        query_database("SELECT 1")  # nothing cached for it: the database's breaker opens


def test_fallback_manual_usage(rm, caplog):
    large_dataset = list(range(10_000))

    async def expensive_operation(data):
        if current_attempt().number == 1:
            raise MemoryError("cannot allocate")
        return sum(data)

    protocol = FallbackProtocol(resource_manager=rm)

    # Add custom hooks
    async def log_fallback(context):
        logger.info(f"Fallback triggered for {context.team_name}")

    # differs: the hook stages are FallbackStage's (the guide's DeploymentStage is undefined)
    protocol.add_stage_hook(FallbackStage.STRATEGY_CHANGED, log_fallback)

    async def main():
        # Execute with fallback
        result = await protocol.execute_with_fallback(
            func=expensive_operation,
            resource_type=ResourceType.MEMORY,
            context={"operation": "data_processing", "team_name": "data-team"},  # test: + a team
            data=large_dataset
        )
        return result

    with caplog.at_level(logging.INFO, logger="spec-examples"):
        result = asyncio.run(main())
    assert result == sum(range(10_000)), "answered by the degraded second attempt"
    assert caplog.messages == ["Fallback triggered for data-team"]


def test_fallback_service_degradation_example(rm):
    seen = []

    async def complex_analysis(data, max_tokens):
        seen.append(("complex", max_tokens))
        return f"analysis of {data}"

    async def simple_summary(data, max_tokens):
        seen.append(("simple", max_tokens))
        return f"summary of {data}"

    # Original high-quality function
    async def generate_report(data, quality="high"):
        if quality == "high":
            return await complex_analysis(data, max_tokens=2000)
        else:
            return await simple_summary(data, max_tokens=500)

    # With automatic degradation
    @with_fallback(
        ResourceType.API_QUOTA,
        strategies=[FallbackStrategy.DEGRADE_SERVICE]
    )
    # differs: the wrapper takes `quality` (which the framework lowers) and passes it on
    async def generate_report_resilient(data, quality="high"):
        # Framework automatically reduces max_tokens and temperature
        # when quota is low
        return await generate_report(data, quality=quality)

    assert asyncio.run(generate_report_resilient("q3")) == "analysis of q3"
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.CRITICAL, 95.0)
    assert asyncio.run(generate_report_resilient("q3")) == "summary of q3"
    assert seen == [("complex", 2000), ("simple", 500)]


# --- 3. Circuit Breaker --------------------------------------------------------------------


class APIError(Exception):
    pass


@pytest.fixture
def json_server():
    """A real HTTP server on loopback answering every GET with `{"path": PATH}`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _get(url):
    """`requests.get(url)`, enough of it: `.json()` of the answer."""
    with urllib.request.urlopen(url, timeout=5) as answer:
        body = json.loads(answer.read())
    return SimpleNamespace(json=lambda: body)


requests = SimpleNamespace(get=_get)


def _closed_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_circuit_breaker_usage_manual():
    calls = []

    def chat_completion(prompt):
        calls.append(prompt)
        raise APIError("503 from provider")

    api = SimpleNamespace(chat_completion=chat_completion)

    def fallback_service(prompt):
        return f"fallback answer to {prompt}"

    prompt = "hello"

    # Manual circuit breaker
    cb = CircuitBreaker(
        failure_threshold=5,      # Open after 5 failures
        recovery_timeout=60,      # Try recovery after 60 seconds
        expected_exception=APIError,
        name="OpenAI-API"
    )

    results = []
    for _ in range(6):
        result = None
        # Use manually
        try:
            result = cb.call(lambda: api.chat_completion(prompt))
        except Exception as e:
            # differs: the message names the breaker: "Circuit breaker 'OpenAI-API' is OPEN; ..."
            if "Circuit breaker 'OpenAI-API' is OPEN" in str(e):
                # Use fallback service
                result = fallback_service(prompt)
        results.append(result)

    assert results == [None] * 5 + ["fallback answer to hello"]
    assert len(calls) == 5, "the open breaker did not call the API"
    assert cb.state == "OPEN"


def test_circuit_breaker_usage_decorator(json_server):
    # With decorator
    @with_circuit_breaker(failure_threshold=3, recovery_timeout=30)
    def call_external_api(endpoint: str):
        return requests.get(endpoint).json()

    assert call_external_api(f"{json_server}/v1/status") == {"path": "/v1/status"}
    down = f"http://127.0.0.1:{_closed_port()}/v1/status"
    for _ in range(3):
        with pytest.raises(urllib.error.URLError):
            call_external_api(down)
    with pytest.raises(CircuitBreakerOpen, match="call_external_api' is OPEN; retry in 30"):
        call_external_api(f"{json_server}/v1/status")
    stats = call_external_api.circuit_breaker.get_stats()
    assert (stats["successful_calls"], stats["failed_calls"], stats["rejected_calls"]) == (1, 3, 1)


def test_circuit_breaker_usage_stats(capsys):
    cb = CircuitBreaker(failure_threshold=5, recovery_timeout=60, expected_exception=APIError, name="OpenAI-API")

    def provider(answer):
        if isinstance(answer, Exception):
            raise answer
        return answer

    for answer in ["ok", "ok", "ok", APIError("503")]:
        try:
            cb.call(provider, answer)
        except APIError:
            pass

    # Get circuit statistics
    stats = cb.get_stats()
    print(f"State: {stats['state']}")
    print(f"Success rate: {stats['success_rate']}%")
    print(f"Rejected calls: {stats['rejected_calls']}")

    assert capsys.readouterr().out == "State: CLOSED\nSuccess rate: 75.0%\nRejected calls: 0\n"


def test_circuit_breaker_usage_manual_control():
    cb = CircuitBreaker(name="OpenAI-API", recovery_timeout=60, clock=ManualClock())

    # Manual control
    cb.trip()   # Manually open circuit
    assert cb.state == "OPEN"
    with pytest.raises(CircuitBreakerOpen):
        cb.call(lambda: "not called")
    cb.reset()  # Manually close circuit
    assert cb.state == "CLOSED"
    assert cb.call(lambda: "called") == "called"
    assert cb.get_stats()["rejected_calls"] == 1


# --- 4. Retry Policies ---------------------------------------------------------------------


def test_retry_usage_simple(monkeypatch):
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)  # the default sleep, recorded not waited
    draws = iter([0.1, 0.5, 0.9])  # fail, fail, succeed
    monkeypatch.setattr(random, "random", lambda: next(draws))

    # Simple retry with exponential backoff
    @with_retry(max_retries=3)
    def flaky_operation():
        if random.random() < 0.7:
            raise Exception("Random failure")
        return "Success"

    assert flaky_operation() == "Success"
    assert waits == [1.0, 2.0]

    draws = iter([0.1] * 4)  # always fails: the first call and 3 retries
    with pytest.raises(Exception, match="Random failure"):
        flaky_operation()
    assert waits == [1.0, 2.0, 1.0, 2.0, 4.0]


def test_retry_usage_custom_backoff():
    waits = []
    answers = iter([ConnectionError("reset"), ConnectionError("reset"), {"items": 3}])

    async def fetch():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    external_api = SimpleNamespace(fetch=fetch)

    # Custom backoff policy
    policy = ExponentialBackoff(
        max_retries=5,
        base_delay=0.5,      # Start with 0.5s
        multiplier=3,        # Triple each time
        max_delay=30,        # Cap at 30s
        jitter=True          # Add randomization
    )

    # differs: `sleep=` records the waits instead of sleeping them
    @with_retry(backoff=policy, sleep=no_wait(waits))
    async def api_call():
        return await external_api.fetch()

    assert asyncio.run(api_call()) == {"items": 3}
    assert len(waits) == 2
    for got, full in zip(waits, [0.5, 1.5]):
        assert full / 2 <= got <= full, "jittered below the full delay"
    full_delays = ExponentialBackoff(max_retries=5, base_delay=0.5, multiplier=3, max_delay=30).delays()
    assert full_delays == [0.5, 1.5, 4.5, 13.5, 30.0]


def test_retry_usage_adaptive():
    waits, attempts = [], []
    service_down_for = 2  # outer iterations

    # Adaptive backoff that learns
    adaptive = AdaptiveBackoff(
        initial_delay=1.0,
        success_reduction=0.5,   # Halve delay on success
        failure_increase=2.0     # Double delay on failure
    )

    # stand-in: a call retried on the adaptive schedule (its waits recorded)
    @with_retry(backoff=adaptive, sleep=waits.append)
    def api_call_with_adaptive_retry():
        attempts.append(i)
        if i < service_down_for:
            raise ConnectionError("service down")
        return "ok"

    learned = []
    for i in range(10):
        try:
            result = api_call_with_adaptive_retry()
            adaptive.record_success()  # Reduces future delays
        except:  # noqa: E722 - as in the guide
            adaptive.record_failure()  # Increases future delays
        learned.append(adaptive.current_delay)

    assert result == "ok"
    assert waits == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0], "the second outage waited the doubled delay"
    assert learned == [2.0, 4.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.1, 0.1, 0.1], "floored at min_delay"
    assert len(attempts) == 4 + 4 + 8


# --- 5. Health Monitor ---------------------------------------------------------------------


class StandInDB:
    """`db`: a connection pool's counts, and closing idle connections."""

    def __init__(self, active, maximum):
        self.active, self.maximum, self.closed = active, maximum, 0

    def get_active_connections(self):
        return self.active

    def get_max_connections(self):
        return self.maximum

    async def close_idle_connections(self):
        self.closed += self.active // 2
        self.active -= self.active // 2


def _monitor_with_database_check(db, alerts):
    def send_slack_alert(result):
        alerts.append(result)

    # Initialize monitor
    monitor = HealthMonitor(
        alert_callback=lambda result: send_slack_alert(result)
    )

    # Register default checks (CPU, memory, disk, API quota)
    monitor.register_default_checks()

    # Add custom health check
    async def check_database_connections():
        active = db.get_active_connections()
        max_connections = db.get_max_connections()
        return active < (max_connections * 0.8)  # Healthy if under 80%

    monitor.register_check(HealthCheck(
        name="database_connections",
        check_func=check_database_connections,
        interval=60,         # Check every minute
        timeout=10,          # 10 second timeout
        critical=True        # Affects overall health
    ))
    return monitor


def test_health_monitor_usage_custom_check():
    db, alerts = StandInDB(active=10, maximum=100), []

    async def main():
        monitor = _monitor_with_database_check(db, alerts)
        # differs: the default checks are those with a probe here; API quota has none
        assert monitor.check_names() == ["cpu", "memory", "disk", "database_connections"]

        # Start monitoring
        await monitor.start_monitoring()
        try:
            await monitor.run_check_now("database_connections")
            # Get current health
            status = monitor.get_health_status()  # Overall status
            db_status = monitor.get_health_status("database_connections")
            assert isinstance(status, HealthStatus)
            assert db_status == HealthStatus.HEALTHY

            db.active = 90  # over 80 %: three failures in a row turn it UNHEALTHY
            for _ in range(3):
                await monitor.run_check_now("database_connections")
            assert monitor.get_health_status("database_connections") == HealthStatus.UNHEALTHY
            assert monitor.get_health_status() == HealthStatus.UNHEALTHY, "a critical check decides"
            await monitor.alerts_idle()
        finally:
            await monitor.stop_monitoring()

    asyncio.run(main())
    db_alerts = [a for a in alerts if a.name == "database_connections"]  # not the live host checks
    assert [(a.name, a.status) for a in db_alerts] == [("database_connections", HealthStatus.UNHEALTHY)]
    assert isinstance(db_alerts[0], HealthCheckResult) and db_alerts[0].critical


def test_health_monitor_usage_report(capsys):
    db = StandInDB(active=10, maximum=100)

    async def main():
        monitor = _monitor_with_database_check(db, [])
        await monitor.run_check_now("database_connections")

        # Get detailed report
        report = monitor.get_health_report()
        for check_name, details in report['checks'].items():
            print(f"{check_name}: {details['status']} - {details['message']}")
        return report

    report = asyncio.run(main())
    lines = capsys.readouterr().out.splitlines()
    assert "database_connections: healthy - check passed" in lines
    assert [line.split(":")[0] for line in lines] == list(report["checks"])
    assert sorted(report["checks"]) == ["cpu", "database_connections", "disk", "memory"]


def test_health_monitor_usage_run_check_now():
    db = StandInDB(active=90, maximum=100)

    async def main():
        monitor = _monitor_with_database_check(db, [])

        # Run check immediately
        result = await monitor.run_check_now("database_connections")
        if result.status == HealthStatus.UNHEALTHY:
            # Take corrective action
            await db.close_idle_connections()
        assert db.closed == 45
        again = await monitor.run_check_now("database_connections")
        if again.status == HealthStatus.UNHEALTHY:
            await db.close_idle_connections()
        assert again.status == HealthStatus.HEALTHY and db.closed == 45, "45 of 100 is under 80 %"

    asyncio.run(main())


# --- Integration patterns ------------------------------------------------------------------


class LLMFactory:
    """Stand-in: an LLM for a team that calls the model the fallback chose (its preferred
    model otherwise) and says "fallback" when that is not the preferred one."""

    calls = []
    failures = []  # exceptions the next calls raise

    @classmethod
    def create_with_quota_tracking(cls, team_name, preferred_model):
        async def invoke(prompt):
            attempt = current_attempt()  # None when the queue replays the call
            model = (attempt and attempt.provider) or preferred_model
            cls.calls.append((team_name, model))
            if cls.failures:
                raise cls.failures.pop(0)
            if model == preferred_model:
                return f"{model} for {team_name}: {prompt}"
            return f"fallback {model} for {team_name}: {prompt}"

        return SimpleNamespace(invoke=invoke)


retry_waits = []


@with_circuit_breaker(failure_threshold=5)
# differs: `sleep=` records the 1 s, 2 s, 4 s waits instead of sleeping them
@with_retry(max_retries=3, sleep=no_wait(retry_waits))
# differs: the context names the model the factory prefers, whose quota is checked
@with_fallback(ResourceType.API_QUOTA, context={"model": "gpt-4"})
async def resilient_llm_call(prompt: str, team_name: str):
    """
    This function will:
    1. Check circuit breaker first
    2. Retry up to 3 times on failure
    3. Use fallback strategies if quota exhausted
    """
    llm = LLMFactory.create_with_quota_tracking(
        team_name=team_name,
        preferred_model="gpt-4"
    )
    return await llm.invoke(prompt)


@pytest.fixture
def llm_factory(rm):
    LLMFactory.calls, LLMFactory.failures = [], []
    retry_waits.clear()
    resilient_llm_call.circuit_breaker.reset()
    yield LLMFactory
    resilient_llm_call.circuit_breaker.reset()


def test_integration_llm_calls_with_full_resilience(rm, llm_factory):
    assert asyncio.run(resilient_llm_call("hi", "sales-team")) == "gpt-4 for sales-team: hi"

    # A transient error: the fallback's own retry answers.
    llm_factory.failures = [ConnectionError("reset")]
    assert asyncio.run(resilient_llm_call("hi", "sales-team")) == "gpt-4 for sales-team: hi"

    # Quota exhausted: another model answers.
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.EXHAUSTED, 100.0, model="gpt-4")
    assert asyncio.run(resilient_llm_call("hi", "sales-team")) == "fallback claude-3-opus for sales-team: hi"
    rm.clear_resource_status()
    assert retry_waits == [], "no call needed the retry layer yet"

    # Every provider fails: the fallback queues the call, once; the retry layer does not
    # queue it again. Five such calls open the breaker.
    llm_factory.failures = [TimeoutError("provider down")] * 1000
    tickets = []
    for _ in range(5):
        with pytest.raises(RequestQueued) as queued:
            asyncio.run(resilient_llm_call("hi", "sales-team"))
        tickets.append(queued.value.ticket)
    assert retry_waits == [], "a queued call is not retried"
    protocol = FallbackProtocol.default()
    assert [protocol.ticket_status(t) for t in tickets] == ["pending"] * 5
    before = len(llm_factory.calls)
    with pytest.raises(CircuitBreakerOpen):
        asyncio.run(resilient_llm_call("hi", "sales-team"))
    assert len(llm_factory.calls) == before, "the open breaker called nothing"

    # The provider is back: each queued call is replayed exactly once.
    llm_factory.failures = []

    async def replay():
        return await protocol.process_queue_async()

    assert asyncio.run(replay())["succeeded"] == 5
    assert len(llm_factory.calls) == before + 5
    assert [protocol.ticket_status(t) for t in tickets] == ["done"] * 5


def test_integration_database_operations_with_resilience(rm):
    users = {"42": {"id": "42", "name": "Ada"}}
    failures = []
    queries = []

    async def query(sql):
        queries.append(sql)
        if failures:
            raise failures.pop(0)
        return users[sql.rsplit("= ", 1)[1]]

    db = SimpleNamespace(query=query)

    @with_fallback(
        ResourceType.DATABASE,
        strategies=[
            FallbackStrategy.RETRY,
            FallbackStrategy.USE_CACHE,
            FallbackStrategy.CIRCUIT_BREAK
        ]
    )
    async def get_user_data(user_id: str):
        # Try primary database
        return await db.query(f"SELECT * FROM users WHERE id = {user_id}")

    # 1. Retry with backoff on connection errors
    failures.append(ConnectionError("connection reset"))
    assert asyncio.run(get_user_data("42")) == {"id": "42", "name": "Ada"}
    assert len(queries) == 2
    # 2. Return cached data if available
    failures.extend([ConnectionError("database is down")] * 3)
    assert asyncio.run(get_user_data("42")) == {"id": "42", "name": "Ada"}
    # 3. Open circuit if database is down
    failures.extend([ConnectionError("database is down")] * 3)
    with pytest.raises(CircuitBreakerOpen, match="database:default"):
        asyncio.run(get_user_data("7"))


def test_integration_memory_intensive_operations(rm, tmp_path):
    batches = []

    def process_batch(batch):
        batches.append(len(batch))

    @with_fallback(
        ResourceType.MEMORY,
        strategies=[
            FallbackStrategy.DEGRADE_SERVICE,
            FallbackStrategy.QUEUE_REQUEST
        ]
    )
    def process_large_file(file_path: str, batch_size: int = 10000):
        # Framework will automatically:
        # 1. Reduce batch_size if memory is constrained
        # 2. Queue request if memory is critical

        with open(file_path) as f:
            batch = []
            for line in f:
                batch.append(line)
                if len(batch) >= batch_size:
                    process_batch(batch)
                    batch = []

    path = tmp_path / "big.txt"
    path.write_text("row\n" * 20000)
    process_large_file(str(path))
    assert batches == [10000, 10000]
    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.CRITICAL, 96.0)
    process_large_file(str(path))
    assert batches[2:] == [5000] * 4, "a smaller batch_size while memory is critical"
    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.EXHAUSTED, 100.0)
    with pytest.raises(RequestQueued) as queued:
        process_large_file(str(path))
    assert len(batches) == 6, "queued, not run"
    rm.clear_resource_status()
    assert FallbackProtocol.default().process_queue()["succeeded"] == 1
    assert batches[6:] == [10000, 10000], "replayed at full size once memory recovered"
    assert FallbackProtocol.default().ticket_status(queued.value.ticket) == "done"


def test_integration_full_team_deployment_with_resilience(caplog):
    deployment_queue = asyncio.Queue()
    deployed, failing = [], []

    async def deploy_team(team_name):
        await asyncio.sleep(0)
        if failing:
            raise RuntimeError(f"kubectl apply failed for {team_name}")
        deployed.append(team_name)
        return {"team": team_name, "status": "deployed"}

    pipeline = SimpleNamespace(deploy_team=deploy_team)
    test_rm = ResourceManager(default_probes=False, refresh=False)

    async def deploy_team_with_resilience(team_name: str):
        # Resource checks
        rm = test_rm  # differs: the test's manager, whose readings it forces

        # Check all required resources
        resources_ok = all(
            rm.can_use_resource(resource_type)
            for resource_type in [
                ResourceType.CPU,
                ResourceType.MEMORY,
                ResourceType.DOCKER,
                ResourceType.K8S_POD
            ]
        )

        if not resources_ok:
            # Queue for later
            await deployment_queue.put(team_name)
            return

        # Deploy with circuit breaker
        cb = CircuitBreaker(name=f"deploy-{team_name}")

        try:
            result = await cb.call_async(
                pipeline.deploy_team,
                team_name=team_name
            )
            return result
        except Exception as e:
            logger.error(f"Deployment failed: {e}")
            # Will be retried when circuit closes

    assert asyncio.run(deploy_team_with_resilience("sales")) == {"team": "sales", "status": "deployed"}
    assert deployed == ["sales"]

    test_rm.set_resource_status(ResourceType.DOCKER, ResourceStatus.CRITICAL, 97.0)
    assert asyncio.run(deploy_team_with_resilience("marketing")) is None
    assert deployment_queue.qsize() == 1 and deployment_queue.get_nowait() == "marketing"
    assert deployed == ["sales"], "nothing deployed while Docker is short"
    test_rm.clear_resource_status()

    failing.append(True)
    with caplog.at_level(logging.ERROR, logger="spec-examples"):
        assert asyncio.run(deploy_team_with_resilience("research")) is None
    assert caplog.messages == ["Deployment failed: kubectl apply failed for research"]
    stats = next(b for b in get_all_circuit_breakers() if b.name == "deploy-research").get_stats()
    assert (stats["failed_calls"], stats["state"]) == (1, "CLOSED")


# --- Best practices ------------------------------------------------------------------------


def test_best_practice_1_layer_your_resilience(rm):
    runs = []

    # Good: Multiple layers of protection
    @with_circuit_breaker()  # Outermost: Prevent cascading failures
    @with_retry()           # Middle: Handle transient errors
    @with_fallback()        # Innermost: Handle resource exhaustion
    async def critical_operation():
        runs.append(current_attempt().number)

    assert asyncio.run(critical_operation()) is None
    assert runs == [1], "the fallback layer ran the function once, innermost"
    assert critical_operation.circuit_breaker.get_stats()["successful_calls"] == 1
    assert critical_operation.__wrapped__.backoff.delays() == [1.0, 2.0, 4.0]


def test_best_practice_2_configure_appropriate_timeouts():
    checked = []

    async def check_api():
        checked.append("critical_api")
        return True

    async def check_feature():
        checked.append("optional_feature")
        await asyncio.sleep(10)  # hangs: cut at its timeout
        return True

    monitor = HealthMonitor()

    # Set timeouts based on operation importance
    monitor.register_check(HealthCheck(
        name="critical_api",
        check_func=check_api,
        timeout=30,     # Generous timeout for critical services
        interval=300    # Check every 5 minutes
    ))

    monitor.register_check(HealthCheck(
        name="optional_feature",
        check_func=check_feature,
        timeout=5,      # Quick timeout for optional features
        interval=3600   # Check hourly
    ))

    # test: the same check with a 20 ms timeout is cut at it (5 s is too long to wait for here)
    monitor.register_check(HealthCheck(name="optional_feature_fast", check_func=check_feature, timeout=0.02))

    async def main():
        api = await monitor.run_check_now("critical_api")
        cut = await monitor.run_check_now("optional_feature_fast")
        return api, cut

    started = time.monotonic()
    api, cut = asyncio.run(main())
    assert api.status == HealthStatus.HEALTHY
    assert cut.status == HealthStatus.UNHEALTHY and "timed out" in cut.message
    assert time.monotonic() - started < 2, "cut at its timeout, not after the check's 10 s"
    assert monitor.check_names() == ["critical_api", "optional_feature", "optional_feature_fast"]


def test_best_practice_3_use_context_for_better_decisions():
    rm = ResourceManager(refresh=False)
    # test setup: gpt-4's quota runs short (only for calls naming gpt-4)
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.CRITICAL, 92.0, model="gpt-4")

    # Provide context for smarter fallbacks
    status, usage = rm.check_resource(
        ResourceType.API_QUOTA,
        context={
            "team_name": "sales-team",
            "priority": "high",
            "model": "gpt-4",
            "operation": "customer_analysis"
        }
    )

    # Resource manager can make better decisions with context
    assert (status, usage) == (ResourceStatus.CRITICAL, 92.0)
    other = rm.check_resource(ResourceType.API_QUOTA, context={"team_name": "sales-team", "model": "claude-3-opus"})
    assert other[0] != ResourceStatus.CRITICAL, "another model's quota is not gpt-4's"
    alt = rm.get_alternative_resource(ResourceType.API_QUOTA, context={"model": "gpt-4", "team_name": "sales-team"})
    assert alt["model"] == "claude-3-opus"


def test_best_practice_4_monitor_and_alert():
    pages, notes = [], []

    async def send_pagerduty_alert(event):
        pages.append(event)

    async def send_slack_notification(event):
        notes.append(event)

    # Set up comprehensive monitoring
    async def health_alert(result: HealthCheckResult):
        if result.status == HealthStatus.UNHEALTHY and result.critical:
            await send_pagerduty_alert({
                "service": result.name,
                "severity": "critical",
                "message": result.message
            })
        elif result.status == HealthStatus.DEGRADED:
            await send_slack_notification({
                "channel": "#infrastructure",
                "text": f"Service degraded: {result.name}"
            })

    monitor = HealthMonitor(alert_callback=health_alert)

    async def payments_api():
        return False

    async def search():
        return HealthStatus.DEGRADED, "slow responses"

    async def main():
        monitor.register_check(HealthCheck(name="payments_api", check_func=payments_api, critical=True,
                                           failure_threshold=1))
        monitor.register_check(HealthCheck(name="search", check_func=search, failure_threshold=1))
        await monitor.run_check_now("search")
        await monitor.run_check_now("payments_api")
        await monitor.alerts_idle()

    asyncio.run(main())
    assert pages == [{"service": "payments_api", "severity": "critical", "message": "check failed"}]
    assert notes == [{"channel": "#infrastructure", "text": "Service degraded: search"}]


def test_best_practice_5_test_your_resilience(rm, llm_factory):
    # Test script for resilience
    async def chaos_test():
        # Simulate resource exhaustion
        # differs: the manager the decorated call's protocol reads, forced through its API
        rm = FallbackProtocol.default().resource_manager
        rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.EXHAUSTED, 100.0, model="gpt-4")

        # Should fallback gracefully
        result = await resilient_llm_call("test prompt", "test-team")
        assert "fallback" in result.lower()

        # Simulate circuit breaker trip
        cb = CircuitBreaker(name="test-breaker", failure_threshold=1)
        try:
            cb.call(lambda: 1/0)  # Fail once
        except:  # noqa: E722 - as in the guide
            pass

        # Should be open now
        # differs: the message names the breaker
        with pytest.raises(Exception, match="Circuit breaker 'test-breaker' is OPEN"):
            cb.call(lambda: "This should fail")

    asyncio.run(chaos_test())
    assert llm_factory.calls == [("test-team", "claude-3-opus")], "gpt-4 was never called"


# --- Monitoring and debugging --------------------------------------------------------------


def test_monitoring_view_resource_status(capsys):
    # Quick resource check script
    async def check_all_resources():
        rm = ResourceManager()

        print("Resource Status Report")
        print("=" * 50)

        for resource_type in ResourceType:
            status, usage = rm.check_resource(resource_type)
            emoji = "✅" if status.value == "healthy" else "⚠️" if status.value == "warning" else "❌"
            print(f"{emoji} {resource_type.value:15} {status.value:10} {usage:5.1f}%")

        print("\nResource Report:")
        report = rm.get_resource_report()
        print(f"CPU: {report['system']['cpu_count']} cores")
        print(f"Memory: {report['system']['memory_total_gb']:.1f} GB")
        print(f"Disk: {report['system']['disk_usage_percent']:.1f}% used")
        return report

    report = asyncio.run(check_all_resources())

    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Resource Status Report", "=" * 50]
    rows = lines[2:10]
    assert [row.split()[1] for row in rows] == [t.value for t in ResourceType]
    emojis = {"healthy": "✅", "warning": "⚠️"}
    for row in rows:
        emoji, _, status, usage = row.split()
        assert emoji == emojis.get(status, "❌"), row
        assert status in {s.value for s in ResourceStatus}
        assert 0.0 <= float(usage.rstrip("%")) <= 100.0
    system = report["system"]
    assert lines[10:] == [
        "",
        "Resource Report:",
        f"CPU: {system['cpu_count']} cores",
        f"Memory: {system['memory_total_gb']:.1f} GB",
        f"Disk: {system['disk_usage_percent']:.1f}% used",
    ]
    assert system["cpu_count"] >= 1 and system["memory_total_gb"] > 0


def test_monitoring_circuit_breaker_dashboard(capsys):
    clock = ManualClock()
    payments = CircuitBreaker(name="dashboard-payments", failure_threshold=2, clock=clock)
    search = CircuitBreaker(name="dashboard-search", clock=clock)
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            payments.call(lambda: 1 / 0)
    with pytest.raises(CircuitBreakerOpen):
        payments.call(lambda: "rejected")
    for _ in range(3):
        search.call(lambda: "ok")
    clock.advance(12.5)

    # Get all active circuit breakers (would need registry)
    breakers = get_all_circuit_breakers()

    for breaker in breakers:
        stats = breaker.get_stats()
        print(f"\n{stats['name']}:")
        print(f"  State: {stats['state']}")
        print(f"  Calls: {stats['total_calls']} total, {stats['rejected_calls']} rejected")
        print(f"  Success Rate: {stats['success_rate']}%")
        print(f"  Time in State: {stats['time_in_state']}")

    out = capsys.readouterr().out
    assert (
        "\ndashboard-payments:\n"
        "  State: OPEN\n"
        "  Calls: 3 total, 1 rejected\n"
        "  Success Rate: 0.0%\n"
        "  Time in State: 12.5\n"
    ) in out
    assert (
        "\ndashboard-search:\n"
        "  State: CLOSED\n"
        "  Calls: 3 total, 0 rejected\n"
        "  Success Rate: 100.0%\n"
        "  Time in State: 12.5\n"
    ) in out
    names = [b.name for b in breakers]
    assert names == sorted(names), "sorted by name"
