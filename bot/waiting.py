"""Waiting for the core to finish a request without sleeping: the core's "job_finished" event wakes us.

Events come from every node: in this process on one node, over PostgreSQL LISTEN/NOTIFY when the bot runs
beside other nodes (a job finished on another API node wakes us within milliseconds). A slow poll stays as
a fallback (an event lost while the bus reconnected, or published between our check and our wait). Every
wait has a deadline: interaction tokens expire after 15 minutes, and nobody should be left watching
"thinking…" forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from horde_core.service import HordeService

# Discord lets a bot edit its interaction response for 15 minutes; stop a little before.
INTERACTION_DEADLINE = 14 * 60.0


class FinishedJobs:
    """One subscription per cog; `until` wakes its caller whenever a job of its request finishes."""

    def __init__(self, service: HordeService, *, poll_interval: float = 5.0) -> None:
        self.service = service
        self.poll_interval = poll_interval
        self._wake: dict[str, asyncio.Event] = {}
        service.events.subscribe("job_finished", self._on_job_finished)

    def close(self) -> None:
        self.service.events.unsubscribe("job_finished", self._on_job_finished)

    def _on_job_finished(self, payload: dict[str, Any]) -> None:
        event = self._wake.get(payload.get("request_id", ""))
        if event is not None:
            event.set()

    def wake(self, request_id: str) -> None:
        """Let a waiter re-check at once (after a cancel, for instance)."""
        event = self._wake.get(request_id)
        if event is not None:
            event.set()

    async def until(self, request_id: str, done: Callable[[], Awaitable[bool]], within: float) -> bool:
        """Re-check `done` on every wake-up until it holds (True) or `within` seconds pass (False)."""
        wake = self._wake.setdefault(request_id, asyncio.Event())
        deadline = time.monotonic() + within
        try:
            while True:
                wake.clear()
                if await done():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=min(self.poll_interval, remaining))
        finally:
            self._wake.pop(request_id, None)
