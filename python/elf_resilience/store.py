"""Sharing breakers and usage with other processes and the `elf-resilience` binary.

    import elf_resilience
    elf_resilience.connect(data_dir="/var/lib/elf-resilience")      # what [storage] data_dir says
    elf_resilience.connect(data_dir="...", redis_url="redis://...")  # breakers in Redis

The publishing, the stores and the ledger are the Rust ones the binary uses.
"""

import atexit
import os
import threading
from typing import Any, Dict, Optional, Union

from . import _native
from ._native import StoreError

PathLike = Union[str, "os.PathLike[str]"]

_lock = threading.Lock()
_current: Optional["SharedStore"] = None


class SharedStore:
    """This process's link to the binary's state; made by `connect()`.

    Every `CircuitBreaker` of the process is published every `publish_interval` seconds (and
    by `publish()`), and the dashboard's trip / reset commands for them are applied then.
    `ResourceManager.record_usage(ResourceType.API_QUOTA, tokens, {"team_name", "model"})`
    of managers made while connected goes to the data directory's usage ledger, which
    `elf-resilience report` reads.
    """

    __slots__ = ("_native",)

    def __init__(self, native: "_native.SharedStore") -> None:
        self._native = native

    @property
    def owner_id(self) -> str:
        """Who this process publishes as: `host:pid` unless `connect(owner=...)` said otherwise."""
        return self._native.owner_id

    @property
    def backend(self) -> str:
        """Where breakers go: `sqlite` (the data directory) or `redis`."""
        return self._native.backend

    @property
    def data_dir(self) -> Optional[str]:
        """The data directory (usage ledger; breakers too without Redis), if any."""
        d = self._native.data_dir
        return None if d is None else str(d)

    @property
    def last_error(self) -> Optional[str]:
        """Why the last background publish failed, or None."""
        return self._native.last_error

    def publish(self) -> Dict[str, int]:
        """Applies the dashboard's commands and publishes every breaker now:
        `{"applied", "unknown", "published"}`."""
        return self._native.publish()

    def flush(self) -> None:
        """Waits until the usage recorded so far is written (it is within 200 ms anyway)."""
        self._native.flush()

    def close(self) -> None:
        """Stops publishing, withdraws this process's breakers and writes pending usage; the
        process is no longer connected. Runs at interpreter exit. In a forked child it leaves
        the parent's breakers and ledger alone (the child records no usage through the
        parent's connection: it calls `connect()` for its own)."""
        global _current
        with _lock:
            if _current is self:
                _current = None
        atexit.unregister(self.close)
        self._native.close()

    def __enter__(self) -> "SharedStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)


def connect(
    data_dir: Optional[PathLike] = None,
    *,
    redis_url: Optional[str] = None,
    redis_prefix: str = "elf-resilience",
    publish_interval: float = 5.0,
    owner: Optional[str] = None,
) -> SharedStore:
    """Shares this process's breakers and usage with `elf-resilience serve` / `report`.

    Give the binary's `[storage] data_dir` (created if missing): breakers go to
    `breakers.db` there and usage to `usage.db`. With `[storage] redis_url` (and
    `redis_prefix`), breakers go to Redis instead; usage stays in the data directory, as in
    the binary, so pass both to share usage. A process has one connection: connecting again
    closes the previous one. Raises `StoreError` when a store cannot be opened.
    """
    global _current
    native = _native.SharedStore(
        None if data_dir is None else os.fspath(data_dir),
        redis_url,
        redis_prefix,
        float(publish_interval),
        owner,
    )
    store = SharedStore(native)
    with _lock:
        previous, _current = _current, store
    if previous is not None:
        previous.close()
    atexit.register(store.close)
    return store


def current_store() -> Optional[SharedStore]:
    """The connection made by `connect()`, unless closed."""
    return _current


__all__ = ["SharedStore", "StoreError", "connect", "current_store"]
