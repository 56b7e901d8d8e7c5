"""Read views rebuilt at most every few seconds, shared by every reader (the status page, /metrics).

A page that 1,000 browsers reload costs one rebuild per TTL, not 1,000 queries: the first reader after the
TTL rebuilds while the others keep the previous copy (or, for the very first build, wait for the same one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class Snapshots:
    def __init__(self) -> None:
        self._values: dict[str, tuple[float, Any]] = {}
        self._building: dict[str, asyncio.Task[Any]] = {}

    async def get(self, name: str, ttl: float, build: Callable[[], Awaitable[Any]]) -> Any:
        hit = self._values.get(name)
        now = time.monotonic()
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        task = self._building.get(name)
        if task is None:
            task = asyncio.ensure_future(self._build(name, build))
            task.add_done_callback(_retrieve)  # a failed rebuild is logged once; readers keep the old copy
            self._building[name] = task
        if hit is not None:
            return hit[1]  # stale for at most one rebuild
        return await asyncio.shield(task)

    async def _build(self, name: str, build: Callable[[], Awaitable[Any]]) -> Any:
        try:
            value = await build()
            self._values[name] = (time.monotonic(), value)
            return value
        except Exception:
            log.exception("rebuilding the %s view failed", name)
            raise
        finally:
            self._building.pop(name, None)

    def peek(self, name: str) -> Any:
        """The last value built, however old (None before the first build)."""
        hit = self._values.get(name)
        return hit[1] if hit is not None else None

    def forget(self, *names: str) -> None:
        """Drop views after a local change (e.g. a moderator's), so the next reader sees it."""
        for name in names or tuple(self._values):
            self._values.pop(name, None)


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
