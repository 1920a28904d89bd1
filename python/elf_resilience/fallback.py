"""The fallback protocol: the Rust engine decides which strategy runs next; Python calls the
function, adapting its `model`, `max_tokens`, `temperature`, `batch_size` and `quality`
arguments to each attempt."""

import asyncio
import contextvars
import functools
import inspect
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from . import _native
from ._enums import FallbackStage, FallbackStrategy, ResourceType
from ._native import Attempt, FallbackError, RequestQueued
from .resources import ResourceManager
from .retry import Backoff

_attempt: "contextvars.ContextVar[Optional[Attempt]]" = contextvars.ContextVar("elf_resilience_attempt", default=None)

_KNOBS = ("max_tokens", "temperature", "batch_size")


_default_lock = threading.Lock()

#: The event loop an async execution runs its calls (and async hooks) on, per worker thread.
_hook_loop = threading.local()


@dataclass
class FallbackEvent:
    """What a stage hook receives: the stage, the resource, the call's context and, when it
    applies, the strategy, attempt number, provider and a detail line."""

    stage: FallbackStage
    resource: ResourceType
    context: Dict[str, Any] = field(default_factory=dict)
    strategy: Optional[FallbackStrategy] = None
    attempt: int = 0
    provider: Optional[str] = None
    detail: Optional[str] = None

    @property
    def team_name(self) -> Optional[str]:
        """The team the call was made for, when its context names one."""
        return self.context.get("team_name")


def current_attempt() -> Optional[Attempt]:
    """The attempt being run by the innermost fallback protocol, inside a call it makes."""
    return _attempt.get()


class FallbackProtocol:
    """Runs a function and, when it fails or its resource is short, applies the fallback
    strategies in order: retry, switch provider, degrade, (queue), use cache, circuit break,
    load shed. Readiness comes from `resource_manager` (a fresh `ResourceManager` by default).
    """

    __slots__ = ("_native", "_settings", "_hooks", "_handlers", "resource_manager")

    _default: Optional["FallbackProtocol"] = None

    def __init__(
        self,
        resource_manager: Optional[ResourceManager] = None,
        providers: Iterable[str] = (),
        retry_backoff: Optional[Backoff] = None,
        strategies: Optional[Mapping[ResourceType, Sequence[FallbackStrategy]]] = None,
        cache_size: int = 1024,
        cache_ttl: float = 300,
        max_staleness: float = 3600,
        concurrency_limit: Optional[int] = None,
    ) -> None:
        self.resource_manager = resource_manager if resource_manager is not None else ResourceManager()
        orders = None if strategies is None else {k: list(v) for k, v in strategies.items()}
        self._settings = (
            self.resource_manager._native,
            list(providers),
            retry_backoff,
            orders,
            cache_size,
            float(cache_ttl),
            float(max_staleness),
            concurrency_limit,
        )
        self._hooks: List[Any] = []
        self._handlers: Dict[str, Any] = {}
        self._native = _native.Protocol(*self._settings, [])

    def register_queue_handler(self, name: str, resource_type: ResourceType, func: Callable[..., Any]) -> None:
        """Lets `process_queue` replay calls queued under `name` with `func`, once
        `resource_type` is usable. `@with_fallback` registers its function itself."""
        self._handlers[name] = (resource_type, func)

    def process_queue(self) -> Dict[str, Any]:
        """Replays the queued calls whose resource is usable (the Rust `QueueWorker`): returns
        the counts `delivered`, `succeeded`, `failed`, `dead_lettered`, `gated`."""
        return self._native.process_queue(dict(self._handlers), None)

    async def process_queue_async(self) -> Dict[str, Any]:
        """`process_queue`, with async handlers run on this event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._native.process_queue, dict(self._handlers), loop)

    def ticket_status(self, ticket: str) -> Optional[str]:
        """`pending`, `leased`, `done` or `dead_lettered` for a `RequestQueued.ticket`."""
        return self._native.ticket_status(ticket)

    def add_stage_hook(self, stage: Optional[FallbackStage], hook: Callable[[FallbackEvent], Any]) -> None:
        """Calls `hook(event)` (sync or async) at `stage`, or at every stage when None. An
        exception in a hook is printed, never raised into the call."""
        self._hooks.append((None if stage is None else FallbackStage(stage).value, hook))
        self._native = _native.Protocol(*self._settings, list(self._hooks))

    @classmethod
    def default(cls) -> "FallbackProtocol":
        """The protocol `@with_fallback` uses when given none (made on first use)."""
        with _default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    @classmethod
    def set_default(cls, protocol: Optional["FallbackProtocol"]) -> None:
        """Replaces the protocol `@with_fallback` uses when given none."""
        cls._default = protocol

    def order_for(self, resource_type: ResourceType) -> List[FallbackStrategy]:
        """The strategy order for `resource_type` when a call names none."""
        return [FallbackStrategy(v) for v in self._native.order_for(resource_type)]

    async def execute_with_fallback(
        self,
        func: Callable[..., Any],
        resource_type: ResourceType,
        context: Optional[Mapping[str, Any]] = None,
        strategies: Optional[Sequence[FallbackStrategy]] = None,
        cache_key: Optional[str] = None,
        queue_handler: Optional[str] = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Awaits `func(*args, **kwargs)` (sync or async) with fallback. The engine runs in a
        worker thread; the calls of a coroutine function run on this event loop. With
        `queue_handler` (registered with `register_queue_handler`), QUEUE_REQUEST may queue the
        call and raise `RequestQueued`."""
        loop = asyncio.get_running_loop()
        op = _async_op(loop, func, args, kwargs) if inspect.iscoroutinefunction(func) else _sync_op(func, args, kwargs)
        native, ctx = self._native, _ctx(func, context, kwargs)
        queue = _queued(queue_handler, args, kwargs)

        def run() -> Any:
            _hook_loop.loop = loop
            try:
                return native.execute(op, resource_type, ctx, _list(strategies), cache_key, queue)
            finally:
                _hook_loop.loop = None

        return await loop.run_in_executor(None, run)

    def execute_with_fallback_sync(
        self,
        func: Callable[..., Any],
        resource_type: ResourceType,
        context: Optional[Mapping[str, Any]] = None,
        strategies: Optional[Sequence[FallbackStrategy]] = None,
        cache_key: Optional[str] = None,
        queue_handler: Optional[str] = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """`execute_with_fallback` for a sync function, on this thread (GIL released while
        waiting)."""
        op = _sync_op(func, args, kwargs)
        ctx, queue = _ctx(func, context, kwargs), _queued(queue_handler, args, kwargs)
        return self._native.execute(op, resource_type, ctx, _list(strategies), cache_key, queue)


def with_fallback(
    resource_type: Optional[ResourceType] = None,
    strategies: Optional[Sequence[FallbackStrategy]] = None,
    protocol: Optional[FallbackProtocol] = None,
    context: Optional[Mapping[str, Any]] = None,
    cache: Optional[bool] = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Runs a sync or async function through a fallback protocol (`FallbackProtocol.default()`
    unless given) for `resource_type` (API_QUOTA, the LLM case, when None). Answers are cached by arguments when `cache` is true, or when it is None and
    `strategies` includes USE_CACHE. The call's `model` and `team_name` arguments join the context.
    """
    resource = ResourceType.API_QUOTA if resource_type is None else resource_type
    use_cache = cache if cache is not None else strategies is not None and FallbackStrategy.USE_CACHE in strategies

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        handler = f"{func.__module__}.{func.__qualname__}"

        def key(args: Any, kwargs: Any) -> Optional[str]:
            return _cache_key(func, args, kwargs) if use_cache else None

        def protocol_for_call() -> FallbackProtocol:
            p = protocol or FallbackProtocol.default()
            p.register_queue_handler(handler, resource, func)
            return p

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                p = protocol_for_call()
                return await p.execute_with_fallback(
                    func, resource, context, strategies, key(args, kwargs), handler, *args, **kwargs
                )

            return guarded_async

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            p = protocol_for_call()
            return p.execute_with_fallback_sync(
                func, resource, context, strategies, key(args, kwargs), handler, *args, **kwargs
            )

        return guarded

    return decorate


def _queued(handler: Optional[str], args: Any, kwargs: Mapping[str, Any]) -> Optional[Tuple[str, Dict[str, Any]]]:
    return None if handler is None else (handler, {"args": list(args), "kwargs": dict(kwargs)})


def _replay(func: Callable[..., Any], payload: Dict[str, Any]) -> Any:
    """Calls `func` with a queued call's arguments (from the native queue worker)."""
    return func(*payload.get("args", []), **payload.get("kwargs", {}))


def _replay_sync(func: Callable[..., Any], payload: Dict[str, Any]) -> Any:
    result = _replay(func, payload)
    return asyncio.run(_awaited(result)) if inspect.isawaitable(result) else result


def _run_hook(hook: Callable[[FallbackEvent], Any], raw: Dict[str, Any]) -> None:
    """Calls a stage hook (from the native engine); an async one runs on the execution's loop."""
    event = FallbackEvent(
        stage=FallbackStage(raw["stage"]),
        resource=ResourceType(raw["resource"]),
        context=_flat_context(raw.get("context") or {}),
        strategy=None if raw.get("strategy") is None else FallbackStrategy(raw["strategy"]),
        attempt=raw.get("attempt", 0),
        provider=raw.get("provider"),
        detail=raw.get("detail"),
    )
    result = hook(event)
    if not inspect.isawaitable(result):
        return
    loop = getattr(_hook_loop, "loop", None)
    if loop is not None:
        asyncio.run_coroutine_threadsafe(_awaited(result), loop).result()
        return
    try:
        asyncio.get_running_loop().create_task(_awaited(result))
    except RuntimeError:
        asyncio.run(_awaited(result))


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _flat_context(ctx: Dict[str, Any]) -> Dict[str, Any]:
    """The native context (fields and tags) as one dict, as the call passed it."""
    flat = {k: v for k, v in ctx.items() if k != "tags" and v is not None}
    flat.update(ctx.get("tags") or {})
    return flat


def _sync_op(func: Callable[..., Any], args: Any, kwargs: Dict[str, Any]) -> Callable[[Attempt], Any]:
    def op(attempt: Attempt) -> Any:
        token = _attempt.set(attempt)
        try:
            return func(*args, **_adapt(func, attempt, kwargs))
        finally:
            _attempt.reset(token)

    return op


def _async_op(loop: Any, func: Callable[..., Any], args: Any, kwargs: Dict[str, Any]) -> Callable[[Attempt], Any]:
    async def one(attempt: Attempt) -> Any:
        _attempt.set(attempt)  # this task's own context
        return await func(*args, **_adapt(func, attempt, kwargs))

    def op(attempt: Attempt) -> Any:
        return asyncio.run_coroutine_threadsafe(one(attempt), loop).result()

    return op


@functools.lru_cache(maxsize=1024)
def _parameters(func: Callable[..., Any]) -> Mapping[str, inspect.Parameter]:
    try:
        return inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}


def _adapt(func: Callable[..., Any], attempt: Attempt, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """The arguments for `attempt`: its provider as `model`, its quality level applied."""
    params = _parameters(func)
    kw = dict(kwargs)
    if attempt.provider is not None and "model" in params:
        kw["model"] = attempt.provider
    if attempt.is_full():
        return kw
    for name in _KNOBS:
        full = kw.get(name, params[name].default if name in params else None)
        if isinstance(full, (int, float)) and not isinstance(full, bool):
            kw[name] = getattr(attempt, name)(full)
    if "quality" in params:
        kw["quality"] = "low"
    return kw


def _ctx(func: Callable[..., Any], context: Optional[Mapping[str, Any]], kwargs: Mapping[str, Any]) -> Dict[str, Any]:
    ctx = dict(context or {})
    params = _parameters(func)
    for name in ("model", "team_name"):
        if name in ctx:
            continue
        if name in kwargs:
            ctx[name] = kwargs[name]
        elif name in params and isinstance(params[name].default, str):
            ctx[name] = params[name].default
    return ctx


def _list(strategies: Optional[Sequence[FallbackStrategy]]) -> Optional[List[FallbackStrategy]]:
    return None if strategies is None else list(strategies)


def _cache_key(func: Callable[..., Any], args: Any, kwargs: Mapping[str, Any]) -> str:
    call = json.dumps([list(args), dict(sorted(kwargs.items()))], default=repr)
    return f"{func.__module__}.{func.__qualname__}:{call}"


__all__ = ["Attempt", "FallbackError", "FallbackEvent", "RequestQueued", "FallbackProtocol", "current_attempt", "with_fallback"]
