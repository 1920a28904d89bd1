"""Circuit breakers: the Rust breaker, with a coroutine adapter and a decorator."""

import functools
import inspect
from typing import Any, Callable, Dict, List, Optional

from . import _native
from ._native import CircuitBreakerOpen, ManualClock

CircuitBreakerOpenError = CircuitBreakerOpen


class CircuitBreaker:
    """Stops calling a failing service; probes it again after `recovery_timeout` seconds.

    Opens after `failure_threshold` consecutive failures, counting only exceptions that are
    instances of `expected_exception` (a class or a tuple). Constructing one registers it
    under `name` in the process-wide registry (replacing an older breaker of that name); see
    `get_all_circuit_breakers()`. Pass `clock=ManualClock()` to control time in tests.

    `call(func, *args, **kwargs)` runs `func(*args, **kwargs)`, or raises `CircuitBreakerOpen`
    instead while open; it is the native method itself (no Python frame per call).
    """

    __slots__ = ("_native", "call")

    #: Runs `func(*args, **kwargs)`; raises `CircuitBreakerOpen` instead while open.
    call: Callable[..., Any]

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 60,
        expected_exception: Any = Exception,
        name: str = "default",
        half_open_max_calls: int = 1,
        clock: Optional[ManualClock] = None,
    ) -> None:
        self._native = _native.Breaker(
            failure_threshold, float(recovery_timeout), expected_exception, name, half_open_max_calls, clock
        )
        self.call = self._native.call

    @classmethod
    def _wrap(cls, native: "_native.Breaker") -> "CircuitBreaker":
        breaker = cls.__new__(cls)
        breaker._native = native
        breaker.call = native.call
        return breaker

    @property
    def name(self) -> str:
        """The breaker's name."""
        return self._native.name

    @property
    def state(self) -> str:
        """`CLOSED`, `OPEN`, `HALF_OPEN`, `FORCED_OPEN` or `DISABLED`."""
        return self._native.state

    async def call_async(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Awaits `func(*args, **kwargs)`; raises `CircuitBreakerOpen` instead while open."""
        permit = self._native.acquire()
        try:
            result = func(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            permit.error(exc)
            raise
        permit.success()
        return result

    def get_stats(self) -> Dict[str, Any]:
        """Counts, success rate (percent), state and time in state (seconds)."""
        return self._native.get_stats()

    def trip(self) -> None:
        """Opens the breaker now, for the recovery timeout."""
        self._native.trip()

    def reset(self) -> None:
        """Closes the breaker and forgets its failures."""
        self._native.reset()

    def force_open(self) -> None:
        """Opens the breaker until `reset()`."""
        self._native.force_open()

    def open_for(self, seconds: float) -> None:
        """Opens the breaker for `seconds` (e.g. a provider's Retry-After)."""
        self._native.open_for(float(seconds))

    def __repr__(self) -> str:
        return repr(self._native)


def get_all_circuit_breakers() -> List[CircuitBreaker]:
    """Every registered breaker, sorted by name."""
    return [CircuitBreaker._wrap(b) for b in _native.all_breakers()]


def get_circuit_breaker(name: str) -> Optional[CircuitBreaker]:
    """The registered breaker called `name`, if any."""
    native = _native.get_breaker(name)
    return None if native is None else CircuitBreaker._wrap(native)


def with_circuit_breaker(
    failure_threshold: Any = 5,
    recovery_timeout: float = 60,
    expected_exception: Any = Exception,
    name: Optional[str] = None,
    **options: Any,
) -> Any:
    """Guards a sync or async function with a breaker named after it (or `name`).

    The breaker is the wrapper's `circuit_breaker` attribute.
    """
    if callable(failure_threshold):  # used bare: @with_circuit_breaker
        return with_circuit_breaker()(failure_threshold)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        breaker = CircuitBreaker(
            failure_threshold=failure_threshold,
            recovery_timeout=recovery_timeout,
            expected_exception=expected_exception,
            name=name or func.__qualname__,
            **options,
        )
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                return await breaker.call_async(func, *args, **kwargs)

            wrapper: Any = guarded_async
        else:
            # A native callable: each call goes straight into the Rust breaker.
            wrapper = functools.update_wrapper(_native.Guarded(breaker._native, func), func)
        wrapper.circuit_breaker = breaker
        return wrapper

    return decorate
