"""Pub/sub: how the bot hears "job finished" without the core knowing Discord, and how caches hear of changes.

Events published by the core: "job_finished" (request_id, job_id, kind, censored, worker_owner),
"kudos_moved" (from, to, amount, reason), "community_sanction" (community, state), and the invalidations the
node's parts listen to (horde_core/parts): "user_changed", "worker_changed", "settings_changed", "hint".
Payloads stay small (ids), because on PostgreSQL every event also crosses to the other nodes
(`horde_core.parts.pg_bus.PgEventBus`, same interface); this in-process bus serves one process (SQLite).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]

# Delivered by a bus that may have missed events (its connection dropped): caches forget everything.
RESYNC = "bus_resync"


class Bus(Protocol):
    """What publishers and subscribers see, in-process or across processes."""

    def subscribe(self, name: str, handler: Handler, *, local_only: bool = False) -> None:
        """`local_only`: only events this process published (counters of this node's own work)."""
        ...

    def unsubscribe(self, name: str, handler: Handler) -> None: ...

    def publish(self, name: str, payload: dict[str, Any]) -> None: ...

    async def start(self) -> None: ...

    async def settle(self) -> None: ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...


class EventBus:
    """The in-process bus: every subscriber of this process, nobody else."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._local_handlers: dict[str, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[Any]] = set()

    def subscribe(self, name: str, handler: Handler, *, local_only: bool = False) -> None:
        (self._local_handlers if local_only else self._handlers)[name].append(handler)

    def unsubscribe(self, name: str, handler: Handler) -> None:
        for table in (self._handlers, self._local_handlers):
            if handler in table.get(name, ()):
                table[name].remove(handler)

    def publish(self, name: str, payload: dict[str, Any]) -> None:
        """Deliver after the caller's transaction committed; a failing handler never hurts the core."""
        self.deliver(name, payload)

    def deliver(self, name: str, payload: dict[str, Any], *, remote: bool = False) -> None:
        """Run this process's handlers of one event (sync handlers now, async ones as tasks); an event from
        another node skips the handlers that asked for this node's own events only."""
        handlers = list(self._handlers.get(name, ()))
        if not remote:
            handlers += self._local_handlers.get(name, ())
        for handler in handlers:
            try:
                result = handler(payload)
            except Exception:
                log.exception("event handler for %s failed", name)
                continue
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._done)

    async def settle(self) -> None:
        """Wait for the handlers started so far (tests; an orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("event handler failed", exc_info=task.exception())

    async def start(self) -> None:
        return None

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None
