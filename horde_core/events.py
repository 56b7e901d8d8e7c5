"""A tiny in-process pub/sub: how the bot hears "job finished" without the core knowing Discord.

Events published by the core: "job_finished" (request_id, job_id, kind, censored, worker_owner),
"kudos_moved" (from, to, amount, reason), "community_sanction" (community, state).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[Any]] = set()

    def subscribe(self, name: str, handler: Handler) -> None:
        self._handlers[name].append(handler)

    def unsubscribe(self, name: str, handler: Handler) -> None:
        if handler in self._handlers.get(name, ()):
            self._handlers[name].remove(handler)

    def publish(self, name: str, payload: dict[str, Any]) -> None:
        """Deliver after the caller's transaction committed; a failing handler never hurts the core."""
        for handler in self._handlers.get(name, ()):
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
