"""Waking whoever follows a request, without sleeping: the core's "job_finished" event (or a Cancel button)
sets the request's event. Events come from every node: in this process on one node, over PostgreSQL
LISTEN/NOTIFY when the bot runs beside other nodes (a job finished on another API node wakes us within
milliseconds). A slow poll stays as the fallback (an event lost while the bus reconnected, an event published
between our check and our wait, a job that faulted or expired without an event)."""

from __future__ import annotations

import asyncio
import contextlib


class Wakeups:
    """One event per followed request. Clear it before each check, wait on it after: nothing is missed between."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def watch(self, key: str) -> asyncio.Event:
        return self._events.setdefault(key, asyncio.Event())

    def forget(self, key: str) -> None:
        self._events.pop(key, None)

    def __contains__(self, key: str) -> bool:
        return key in self._events

    def wake(self, key: str) -> None:
        event = self._events.get(key)
        if event is not None:
            event.set()

    def wake_all(self) -> None:
        for event in self._events.values():
            event.set()

    @staticmethod
    async def wait(event: asyncio.Event, seconds: float) -> None:
        """Until the event is set, or `seconds` pass (the poll)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()
