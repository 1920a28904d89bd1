"""elf_resilience: the Fallback Protocols API on a Rust core.

    from elf_resilience import ResourceManager, ResourceType, FallbackProtocol, FallbackStrategy, \
        CircuitBreaker, with_retry, ExponentialBackoff, HealthMonitor, HealthCheck

Decisions, state and schedules live in the Rust crates; this package adds the decorators and
the asyncio glue.
"""

from ._enums import CircuitState, FallbackStage, FallbackStrategy, HealthStatus, ResourceStatus, ResourceType
from ._native import ManualClock
from .circuit_breaker import (
    CircuitBreaker,
    CircuitBreakerOpen,
    CircuitBreakerOpenError,
    get_all_circuit_breakers,
    get_circuit_breaker,
    with_circuit_breaker,
)
from .fallback import Attempt, FallbackError, FallbackEvent, FallbackProtocol, RequestQueued, current_attempt, with_fallback
from .health import HealthCheck, HealthCheckResult, HealthMonitor
from .resources import DEFAULT_MODEL_ALTERNATIVES, ResourceManager
from .store import SharedStore, StoreError, connect, current_store
from .retry import (
    AdaptiveBackoff,
    Backoff,
    ExponentialBackoff,
    FibonacciBackoff,
    FixedDelay,
    LinearBackoff,
    with_retry,
)

__all__ = [
    "HealthCheck",
    "HealthCheckResult",
    "HealthMonitor",
    "Attempt",
    "FallbackError",
    "FallbackEvent",
    "FallbackProtocol",
    "FallbackStage",
    "current_attempt",
    "with_fallback",
    "DEFAULT_MODEL_ALTERNATIVES",
    "AdaptiveBackoff",
    "Backoff",
    "CircuitBreaker",
    "CircuitBreakerOpen",
    "CircuitBreakerOpenError",
    "CircuitState",
    "ExponentialBackoff",
    "FallbackStrategy",
    "FibonacciBackoff",
    "FixedDelay",
    "HealthStatus",
    "LinearBackoff",
    "ManualClock",
    "RequestQueued",
    "ResourceManager",
    "ResourceStatus",
    "ResourceType",
    "SharedStore",
    "StoreError",
    "connect",
    "current_store",
    "get_all_circuit_breakers",
    "get_circuit_breaker",
    "with_circuit_breaker",
    "with_retry",
]
