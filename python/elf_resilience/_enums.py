"""The spec's enums. Their members and values come from the Rust crates."""

from enum import Enum

from . import _native

ResourceType = Enum("ResourceType", _native.resource_types(), module=__name__)
ResourceType.__doc__ = "The 8 kinds of resource the framework watches (`API_QUOTA` ... `K8S_POD`)."

ResourceStatus = Enum("ResourceStatus", _native.resource_statuses(), module=__name__)
ResourceStatus.__doc__ = "How a resource stands: HEALTHY, WARNING, CRITICAL, EXHAUSTED or UNKNOWN."

FallbackStrategy = Enum("FallbackStrategy", _native.fallback_strategies(), module=__name__)
FallbackStrategy.__doc__ = "The 7 fallback strategies, in the spec's default order."

FallbackStage = Enum("FallbackStage", _native.fallback_stages(), module=__name__)
FallbackStage.__doc__ = "The moments a fallback hook can watch: ATTEMPT_STARTED, STRATEGY_CHANGED, SERVED, EXHAUSTED."

HealthStatus = Enum("HealthStatus", _native.health_statuses(), module=__name__)
HealthStatus.__doc__ = "The status of a health check or of the whole service."

CircuitState = Enum("CircuitState", _native.circuit_states(), module=__name__)
CircuitState.__doc__ = "A circuit breaker's state: CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED."
