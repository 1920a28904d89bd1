"""Type stubs for the enums (built at runtime from the Rust crates' names)."""

from enum import Enum

class ResourceType(Enum):
    API_QUOTA = "api_quota"
    MEMORY = "memory"
    CPU = "cpu"
    DATABASE = "database"
    MCP_SERVER = "mcp_server"
    NETWORK = "network"
    DOCKER = "docker"
    K8S_POD = "k8s_pod"

class ResourceStatus(Enum):
    HEALTHY = "healthy"
    WARNING = "warning"
    CRITICAL = "critical"
    EXHAUSTED = "exhausted"
    UNKNOWN = "unknown"

class FallbackStrategy(Enum):
    RETRY = "retry"
    SWITCH_PROVIDER = "switch_provider"
    DEGRADE_SERVICE = "degrade_service"
    QUEUE_REQUEST = "queue_request"
    USE_CACHE = "use_cache"
    CIRCUIT_BREAK = "circuit_break"
    LOAD_SHED = "load_shed"

class FallbackStage(Enum):
    ATTEMPT_STARTED = "attempt_started"
    STRATEGY_CHANGED = "strategy_changed"
    SERVED = "served"
    EXHAUSTED = "exhausted"

class HealthStatus(Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"

class CircuitState(Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"
    FORCED_OPEN = "FORCED_OPEN"
    DISABLED = "DISABLED"
