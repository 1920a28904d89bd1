"""The spec's fallback protocol examples, with `from elf_resilience import ...`."""

import asyncio

import pytest

from elf_resilience import (
    CircuitBreakerOpen,
    FallbackError,
    FallbackProtocol,
    FallbackStage,
    RequestQueued,
    FallbackStrategy,
    FixedDelay,
    ResourceManager,
    ResourceStatus,
    ResourceType,
    current_attempt,
    with_circuit_breaker,
    with_fallback,
    with_retry,
)


@pytest.fixture
def rm():
    """A manager whose readings the tests force, and the default protocol over it."""
    manager = ResourceManager(default_probes=False, refresh=False)
    FallbackProtocol.set_default(
        FallbackProtocol(resource_manager=manager, retry_backoff=FixedDelay(max_retries=2, delay=0.001))
    )
    yield manager
    FallbackProtocol.set_default(None)


class FakeLLM:
    def __init__(self):
        self.calls = []

    async def invoke(self, prompt, model="gpt-4", max_tokens=2000):
        self.calls.append((model, max_tokens))
        await asyncio.sleep(0)
        return f"{model} says hi to {prompt!r}"


def test_automatic_fallback_switches_model_when_quota_is_exhausted(rm):
    llm = FakeLLM()

    @with_fallback(ResourceType.API_QUOTA)
    async def call_llm(prompt: str, model: str = "gpt-4"):
        response = await llm.invoke(prompt, model=model)
        return response

    assert asyncio.run(call_llm("hello")) == "gpt-4 says hi to 'hello'"
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.EXHAUSTED, 100.0, model="gpt-4")
    assert asyncio.run(call_llm("hello")) == "claude-3-opus says hi to 'hello'"
    assert [m for m, _ in llm.calls] == ["gpt-4", "claude-3-opus"]


def test_custom_strategy_order_answers_from_cache(rm):
    rows = {"SELECT 1": [1]}
    down = []

    class DB:
        def execute(self, query):
            if down:
                raise ConnectionError("database is down")
            return rows[query]

    db = DB()

    @with_fallback(
        ResourceType.DATABASE,
        strategies=[
            FallbackStrategy.RETRY,
            FallbackStrategy.USE_CACHE,
            FallbackStrategy.CIRCUIT_BREAK,
        ],
    )
    def query_database(query: str):
        return db.execute(query)

    assert query_database("SELECT 1") == [1]
    down.append(True)
    assert query_database("SELECT 1") == [1], "served from the cache"
    # Nothing cached for this query: the database's breaker opens
    with pytest.raises(CircuitBreakerOpen, match="Circuit breaker 'database:default' is OPEN"):
        query_database("SELECT 2")


def test_manual_execute_with_fallback(rm):
    protocol = FallbackProtocol(resource_manager=rm)
    large_dataset = list(range(1000))

    async def expensive_operation(data):
        return sum(data)

    async def main():
        return await protocol.execute_with_fallback(
            func=expensive_operation,
            resource_type=ResourceType.MEMORY,
            context={"operation": "data_processing"},
            data=large_dataset,
        )

    assert asyncio.run(main()) == sum(range(1000))


def test_service_degradation_lowers_max_tokens(rm):
    seen = []

    async def complex_analysis(data, max_tokens):
        seen.append(("complex", max_tokens))
        return f"analysis of {data} in {max_tokens} tokens"

    async def simple_summary(data, max_tokens):
        seen.append(("simple", max_tokens))
        return f"summary of {data} in {max_tokens} tokens"

    async def generate_report(data, quality="high"):
        attempt = current_attempt()
        if quality == "high" and attempt.is_full():
            return await complex_analysis(data, max_tokens=attempt.max_tokens(2000))
        else:
            return await simple_summary(data, max_tokens=attempt.max_tokens(2000))

    @with_fallback(ResourceType.API_QUOTA, strategies=[FallbackStrategy.DEGRADE_SERVICE])
    async def generate_report_resilient(data):
        return await generate_report(data)

    assert asyncio.run(generate_report_resilient("q3")) == "analysis of q3 in 2000 tokens"
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.CRITICAL, 95.0)
    assert asyncio.run(generate_report_resilient("q3")) == "summary of q3 in 1000 tokens"


def test_memory_pressure_reduces_batch_size(rm, tmp_path):
    batches = []

    def process_batch(batch):
        batches.append(len(batch))

    @with_fallback(
        ResourceType.MEMORY,
        strategies=[
            FallbackStrategy.DEGRADE_SERVICE,
            FallbackStrategy.QUEUE_REQUEST,
        ],
    )
    def process_large_file(file_path: str, batch_size: int = 10000):
        with open(file_path) as f:
            batch = []
            for line in f:
                batch.append(line)
                if len(batch) >= batch_size:
                    process_batch(batch)
                    batch = []
        return batch_size

    path = tmp_path / "big.txt"
    path.write_text("row\n" * 20000)
    assert process_large_file(str(path)) == 10000
    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.CRITICAL, 96.0)
    assert process_large_file(str(path)) == 5000
    assert batches == [10000, 10000, 5000, 5000, 5000, 5000]


def test_the_last_exception_propagates_unchanged(rm):
    errors = []

    @with_fallback(ResourceType.NETWORK, strategies=[FallbackStrategy.RETRY])
    def fetch():
        errors.append(TimeoutError(f"attempt {len(errors) + 1}"))
        raise errors[-1]

    with pytest.raises(TimeoutError) as info:
        fetch()
    assert len(errors) == 3, "first call and two retries"
    assert info.value is errors[-1]


def test_nothing_left_raises_a_fallback_error(rm):
    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.EXHAUSTED)

    @with_fallback(ResourceType.MEMORY, strategies=[FallbackStrategy.DEGRADE_SERVICE])
    def load():
        return "loaded"

    with pytest.raises(FallbackError, match="exhausted for memory") as info:
        load()
    assert info.value.kind == "exhausted"
    assert info.value.resource == "memory"
    assert info.value.trace["events"][0]["kind"] == "skipped"


def test_async_fallback_leaves_the_loop_running(rm):
    ticks = []
    seen = []

    @with_fallback(ResourceType.NETWORK, strategies=[FallbackStrategy.RETRY])
    async def slow():
        seen.append(len(ticks))
        await asyncio.sleep(0.02)
        seen.append(len(ticks))
        return "done"

    async def ticker():
        while True:
            ticks.append(1)
            await asyncio.sleep(0.001)

    async def scenario():
        task = asyncio.ensure_future(ticker())
        try:
            return await asyncio.wait_for(slow(), timeout=10)
        finally:
            task.cancel()

    assert asyncio.run(scenario()) == "done"
    assert seen[0] < seen[1], "the ticker ran while the call waited"


def test_chaos_test_llm_call_falls_back(rm):
    calls = []

    class LLMFactory:
        @staticmethod
        def create_with_quota_tracking(team_name, preferred_model):
            class LLM:
                async def invoke(self, prompt):
                    model = current_attempt().provider or preferred_model
                    calls.append(model)
                    if model == preferred_model:
                        return f"{model}: {prompt}"
                    return f"fallback {model}: {prompt}"

            return LLM()

    @with_circuit_breaker(failure_threshold=5)
    @with_retry(max_retries=3)
    @with_fallback(ResourceType.API_QUOTA, context={"model": "gpt-4"})
    async def resilient_llm_call(prompt: str, team_name: str):
        llm = LLMFactory.create_with_quota_tracking(team_name=team_name, preferred_model="gpt-4")
        return await llm.invoke(prompt)

    async def chaos_test():
        # Simulate resource exhaustion
        rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.EXHAUSTED, 100.0, model="gpt-4")

        # Should fallback gracefully
        result = await resilient_llm_call("test prompt", "test-team")
        assert "fallback" in result.lower()

    asyncio.run(chaos_test())
    assert calls == ["claude-3-opus"]


def test_stage_hooks_see_the_fallback(rm):
    logged, every = [], []

    async def log_fallback(context):
        await asyncio.sleep(0)
        logged.append(f"Fallback triggered for {context.team_name}: {context.strategy.value}")

    protocol = FallbackProtocol(resource_manager=rm, retry_backoff=FixedDelay(max_retries=1, delay=0.001))
    protocol.add_stage_hook(FallbackStage.STRATEGY_CHANGED, log_fallback)
    protocol.add_stage_hook(None, lambda event: every.append(event.stage))
    answers = iter([ConnectionError("reset"), "ok"])

    async def flaky(team_name):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def main():
        return await protocol.execute_with_fallback(
            func=flaky, resource_type=ResourceType.NETWORK, context={"team_name": "sales-team"}, team_name="sales-team"
        )

    assert asyncio.run(main()) == "ok"
    assert logged == ["Fallback triggered for sales-team: retry"]
    assert every[0] == FallbackStage.ATTEMPT_STARTED and every[-1] == FallbackStage.SERVED
    assert FallbackStage.STRATEGY_CHANGED in every


def test_layer_your_resilience(rm):
    runs = []

    # Good: Multiple layers of protection
    @with_circuit_breaker()  # Outermost: Prevent cascading failures
    @with_retry()           # Middle: Handle transient errors
    @with_fallback()        # Innermost: Handle resource exhaustion
    async def critical_operation():
        runs.append(current_attempt().strategy)

    assert asyncio.run(critical_operation()) is None
    assert runs == [None]
    assert critical_operation.circuit_breaker.get_stats()["successful_calls"] == 1


def test_queue_request_queues_and_replays_when_the_resource_recovers(rm):
    processed = []

    @with_fallback(
        ResourceType.MEMORY,
        strategies=[
            FallbackStrategy.DEGRADE_SERVICE,
            FallbackStrategy.QUEUE_REQUEST,
        ],
    )
    def process_large_file(file_path: str, batch_size: int = 10000):
        processed.append((file_path, batch_size))
        return f"processed {file_path}"

    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.EXHAUSTED, 100.0)
    with pytest.raises(RequestQueued) as info:
        process_large_file("/data/big.csv", batch_size=500)
    ticket = info.value.ticket
    protocol = FallbackProtocol.default()
    assert protocol.ticket_status(ticket) == "pending"
    assert processed == []

    assert protocol.process_queue()["gated"] == 1, "memory is still exhausted"
    assert processed == []

    rm.clear_resource_status(ResourceType.MEMORY)
    assert protocol.process_queue()["succeeded"] == 1
    assert processed == [("/data/big.csv", 500)]
    assert protocol.ticket_status(ticket) == "done"


def test_async_queued_calls_replay_on_the_loop(rm):
    replayed = []

    @with_fallback(ResourceType.API_QUOTA, strategies=[FallbackStrategy.QUEUE_REQUEST])
    async def summarise(doc_id: int):
        await asyncio.sleep(0)
        replayed.append(doc_id)
        return {"doc": doc_id}

    async def main():
        rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.EXHAUSTED, 100.0)
        with pytest.raises(RequestQueued):
            await summarise(7)
        rm.clear_resource_status()
        return await FallbackProtocol.default().process_queue_async()

    assert asyncio.run(main())["succeeded"] == 1
    assert replayed == [7]
