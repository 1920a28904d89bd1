"""The health monitor: the Rust monitor schedules checks, cuts them at their timeout, applies
hysteresis, keeps history and sends alerts; each check's coroutine and the alert callback run
on the asyncio loop that started monitoring."""

import asyncio
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import _native
from ._enums import HealthStatus
from .resources import ResourceManager


@dataclass
class HealthCheck:
    """A named check: `check_func` (async, or sync and quick) returns a bool, a `HealthStatus`
    or a `(status, message)` pair; an exception or a timeout is UNHEALTHY. A check turns
    UNHEALTHY after `failure_threshold` failures in a row and HEALTHY after
    `success_threshold` successes; `critical` checks decide the overall status."""

    name: str
    check_func: Callable[[], Any]
    interval: float = 30
    timeout: float = 10
    critical: bool = False
    failure_threshold: int = 3
    success_threshold: int = 1


@dataclass
class HealthCheckResult:
    """One run of a check. `status` is what the run observed; `check_status` the check's
    status after hysteresis."""

    name: str
    status: HealthStatus
    check_status: HealthStatus
    previous_status: HealthStatus
    critical: bool
    message: str
    duration_ms: float
    time: str
    flapping: bool = False
    alert: Optional[str] = None
    observed_value: Optional[float] = None
    observed_unit: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def _of(cls, raw: Dict[str, Any]) -> "HealthCheckResult":
        known: Dict[str, Any] = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        for key in ("status", "check_status", "previous_status"):
            known[key] = HealthStatus(raw[key])
        known["tags"] = raw.get("tags") or {}
        return cls(**known)


class HealthMonitor:
    """Runs health checks on their schedules and calls `alert_callback(result)` (sync or
    async) when a check's status changes."""

    __slots__ = ("_native",)

    def __init__(
        self,
        alert_callback: Optional[Callable[[HealthCheckResult], Any]] = None,
        history_capacity: int = 100,
    ) -> None:
        callback = None if alert_callback is None else _alert_adapter(alert_callback)
        self._native = _native.Monitor(callback, history_capacity)

    def register_default_checks(self, resource_manager: Optional[ResourceManager] = None) -> List[str]:
        """Registers `cpu`, `memory` and `api_quota` checks (those with a probe) over
        `resource_manager` (a fresh one by default), and `disk`. Returns their names."""
        rm = resource_manager if resource_manager is not None else ResourceManager(refresh=False)
        return self._native.register_default_checks(rm._native)

    def register_check(self, check: HealthCheck) -> None:
        """Registers `check`; if monitoring runs, it is scheduled at once."""
        self._native.register_check(
            check.name,
            check.check_func,
            float(check.interval),
            float(check.timeout),
            check.critical,
            check.failure_threshold,
            check.success_threshold,
        )

    async def start_monitoring(self) -> None:
        """Starts running the checks on their schedules; checks run on this event loop."""
        self._native.start_monitoring(asyncio.get_running_loop())

    async def stop_monitoring(self) -> None:
        """Stops the schedule and waits for runs in flight."""
        await asyncio.get_running_loop().run_in_executor(None, self._native.stop_monitoring)

    @property
    def is_monitoring(self) -> bool:
        """Whether the checks run on their schedules."""
        return self._native.is_monitoring()

    def get_health_status(self, name: Optional[str] = None) -> HealthStatus:
        """The status of check `name`, or with None the overall status."""
        return HealthStatus(self._native.get_health_status(name))

    def get_health_report(self) -> Dict[str, Any]:
        """`status`, `time` and `checks`: per check its `status`, `message`, `critical`,
        `last_run`, consecutive counts, flapping and `history`."""
        return self._native.get_health_report()

    async def run_check_now(self, name: str) -> HealthCheckResult:
        """Runs check `name` now, outside its schedule."""
        loop = asyncio.get_running_loop()
        raw = await loop.run_in_executor(None, self._native.run_check_now, name, loop)
        return HealthCheckResult._of(raw)

    async def alerts_idle(self) -> None:
        """Waits until every queued alert was delivered."""
        await asyncio.get_running_loop().run_in_executor(None, self._native.alerts_idle)

    def check_names(self) -> List[str]:
        """The registered checks, in registration order."""
        return self._native.check_names()


def _alert_adapter(callback: Callable[[HealthCheckResult], Any]) -> Callable[[Dict[str, Any]], Any]:
    def alert(raw: Dict[str, Any]) -> Any:
        return callback(HealthCheckResult._of(raw))

    return alert


def _submit(loop: Any, func: Callable[..., Any], args: Sequence[Any], done: Callable[[Any], None]) -> Any:
    """Runs `func(*args)` on `loop` from another thread, awaiting what it returns if it is
    awaitable; `done(future)` is called when it ends. Used by the native monitor."""

    async def run() -> Any:
        result = func(*args)
        if inspect.isawaitable(result):
            result = await result
        return result

    coro = run()
    try:
        future = asyncio.run_coroutine_threadsafe(coro, loop)
    except BaseException:
        coro.close()  # the loop is closed: nothing will run it
        raise
    future.add_done_callback(done)
    return future


__all__ = ["HealthCheck", "HealthCheckResult", "HealthMonitor"]
