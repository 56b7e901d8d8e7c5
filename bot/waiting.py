"""Waking whoever follows a request, without sleeping: the core's "job_finished" event (or a Cancel button)
sets the request's event; a slow poll stays as the fallback (a core in another process whose events do not reach
us, an event published between our check and our wait, a job that faulted or expired without an event)."""

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
