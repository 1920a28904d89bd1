"""Retry decorators over the Rust backoff schedules.

The schedule (how long each wait is, when to give up, jitter) is the Rust backoff's; Python
only sleeps: `time.sleep` in a sync function (the GIL is released while it waits) and
`asyncio.sleep` in a coroutine (the event loop keeps running).
"""

import asyncio
import functools
import inspect
import time
from typing import Any, Callable, Optional, Tuple, Type, Union

from ._native import (
    AdaptiveBackoff,
    Backoff,
    ExponentialBackoff,
    FibonacciBackoff,
    FixedDelay,
    LinearBackoff,
    RequestQueued,
)

__all__ = [
    "AdaptiveBackoff",
    "Backoff",
    "ExponentialBackoff",
    "FibonacciBackoff",
    "FixedDelay",
    "LinearBackoff",
    "with_retry",
]

Exceptions = Union[Type[BaseException], Tuple[Type[BaseException], ...]]


def with_retry(
    max_retries: Any = 3,
    backoff: Optional[Backoff] = None,
    retry_on: Exceptions = Exception,
    on_retry: Optional[Callable[[int, BaseException, float], Any]] = None,
    sleep: Optional[Callable[[float], Any]] = None,
) -> Any:
    """Calls a sync or async function again after a failure, waiting as `backoff` says.

    Without `backoff`, waits `ExponentialBackoff(max_retries=max_retries)`: 1 s, 2 s, 4 s...
    Only exceptions matching `retry_on` are retried; the last one is re-raised unchanged.
    `RequestQueued` never is: the call is already queued, and another try would queue it again.
    `on_retry(attempt, exc, delay)` is called before each wait. `sleep` replaces the wait
    (a function of seconds; an async one for a coroutine), e.g. to record delays in tests;
    by default `time.sleep` / `asyncio.sleep`, looked up at each wait.
    """
    if callable(max_retries) and not isinstance(max_retries, Backoff):  # used bare: @with_retry
        return with_retry()(max_retries)
    policy = backoff if backoff is not None else ExponentialBackoff(max_retries=max_retries)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def retried_async(*args: Any, **kwargs: Any) -> Any:
                delays = None  # made at the first failure: a call that works allocates nothing
                attempt = 0
                while True:
                    attempt += 1
                    try:
                        return await func(*args, **kwargs)
                    except RequestQueued:
                        raise
                    except retry_on as exc:
                        delays = delays or policy.schedule()
                        delay = _next_delay(delays, attempt, exc, on_retry)
                        if delay is None:
                            raise
                    await (sleep or asyncio.sleep)(delay)

            wrapper: Any = retried_async
        else:

            @functools.wraps(func)
            def retried(*args: Any, **kwargs: Any) -> Any:
                delays = None  # made at the first failure: a call that works allocates nothing
                attempt = 0
                while True:
                    attempt += 1
                    try:
                        return func(*args, **kwargs)
                    except RequestQueued:
                        raise
                    except retry_on as exc:
                        delays = delays or policy.schedule()
                        delay = _next_delay(delays, attempt, exc, on_retry)
                        if delay is None:
                            raise
                    (sleep or time.sleep)(delay)

            wrapper = retried
        wrapper.backoff = policy
        return wrapper

    return decorate


def _next_delay(delays: Any, attempt: int, exc: BaseException, on_retry: Any) -> Optional[float]:
    """The next wait, or None when the schedule is used up."""
    delay: Optional[float] = next(delays, None)
    if delay is not None and on_retry is not None:
        on_retry(attempt, exc, delay)
    return delay
