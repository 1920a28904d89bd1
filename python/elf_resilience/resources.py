"""The resource manager: the Rust manager's probes, thresholds, alternatives and reports."""

from typing import Any, Dict, List, Mapping, Optional, Tuple

from . import _native
from ._enums import ResourceStatus, ResourceType
from .store import SharedStore, current_store

#: Alternatives offered when a model's quota runs short, unless `model_alternatives` says otherwise.
DEFAULT_MODEL_ALTERNATIVES: Dict[str, List[str]] = {
    "gpt-4": ["claude-3-opus", "gpt-3.5-turbo"],
    "gpt-4o": ["claude-3-5-sonnet", "gpt-4o-mini"],
    "claude-3-opus": ["gpt-4", "claude-3-sonnet"],
}

Context = Optional[Mapping[str, Any]]


class ResourceManager:
    """Watches the 8 resource types through the Rust probes (host and cgroup memory and CPU,
    Docker, Kubernetes pod) and answers, cheaply, how each stands.

    Readings are taken when the manager is made (unless `refresh=False`) and by `refresh()`;
    `check_resource` reads the last reading, which goes UNKNOWN after `reading_ttl` seconds.
    Thresholds are percents, keyed by `ResourceType`. With `store` (by default the process's
    `connect()`ion, if any), API quota usage is recorded in its data directory's ledger, which
    `elf-resilience report` and every other connected process read; reports then sum it.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        warning_thresholds: Optional[Mapping[ResourceType, float]] = None,
        critical_thresholds: Optional[Mapping[ResourceType, float]] = None,
        model_alternatives: Optional[Mapping[str, List[str]]] = None,
        default_probes: bool = True,
        refresh: bool = True,
        reading_ttl: float = 30,
        store: Optional[SharedStore] = None,
    ) -> None:
        store = store if store is not None else current_store()
        alternatives = DEFAULT_MODEL_ALTERNATIVES if model_alternatives is None else model_alternatives
        self._native = _native.Resources(
            _float_values(warning_thresholds),
            _float_values(critical_thresholds),
            dict(alternatives),
            default_probes,
            float(reading_ttl),
            None if store is None else store._native,
        )
        if refresh:
            self.refresh()

    def refresh(self, resource_type: Optional[ResourceType] = None) -> None:
        """Samples the probes of `resource_type` (all when None) now; the GIL is released."""
        self._native.refresh(resource_type)

    def check_resource(self, resource_type: ResourceType, context: Context = None) -> Tuple[ResourceStatus, float]:
        """`(status, usage_pct)` of `resource_type` for a call with `context`."""
        value, usage = self._native.check_resource(resource_type, _dict(context))
        return ResourceStatus(value), usage

    def reading(self, resource_type: ResourceType, context: Context = None) -> Dict[str, Any]:
        """Like `check_resource`, with the reason behind the status."""
        value, usage, reason = self._native.reading(resource_type, _dict(context))
        return {"status": ResourceStatus(value), "usage_percent": usage, "reason": reason}

    def can_use_resource(self, resource_type: ResourceType) -> bool:
        """Whether `resource_type` may be used: anything but CRITICAL or EXHAUSTED."""
        return self._native.can_use_resource(resource_type)

    def get_alternative_resource(self, resource_type: ResourceType, context: Context = None) -> Optional[Dict[str, Any]]:
        """The first usable alternative to what `context` names (its `model` for API quota),
        as `{"name", "model", "status", "usage_percent", "resource_type"}`, or None."""
        return self._native.get_alternative_resource(resource_type, _dict(context))

    def record_usage(self, resource_type: ResourceType, amount: float, context: Context = None) -> None:
        """Records `amount` (tokens, requests, ...) of usage for `context`'s team and model."""
        self._native.record_usage(resource_type, float(amount), _dict(context))

    def get_resource_report(self, hours: float = 24) -> Dict[str, Any]:
        """`system` (cpu_count, memory_total_gb, disk_usage_percent), every resource's reading,
        peak and average, and usage by team and model over the last `hours`."""
        return self._native.get_resource_report(float(hours))

    def set_resource_status(
        self,
        resource_type: ResourceType,
        status: ResourceStatus,
        usage_pct: float = 100.0,
        model: Optional[str] = None,
    ) -> None:
        """Forces `resource_type` (only for calls naming `model`, when given) to read `status`
        at `usage_pct` until `clear_resource_status`: the spec's chaos test, without reaching
        into a cache. Fallback protocols using this manager see it too."""
        self._native.set_resource_status(resource_type, status, float(usage_pct), model)

    def clear_resource_status(self, resource_type: Optional[ResourceType] = None) -> None:
        """Stops forcing `resource_type` (every resource when None)."""
        self._native.clear_resource_status(resource_type)

    def probe_names(self, resource_type: ResourceType) -> List[str]:
        """Names of the probes that measure `resource_type`."""
        return self._native.probe_names(resource_type)


def _float_values(thresholds: Optional[Mapping[ResourceType, float]]) -> Optional[Dict[Any, float]]:
    return None if thresholds is None else {k: float(v) for k, v in thresholds.items()}


def _dict(context: Context) -> Optional[Dict[str, Any]]:
    return None if context is None else dict(context)
